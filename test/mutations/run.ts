// The mutation check (`npm run test:mutations`): runs the whole in-workerd suite unmutated and stops if it is red,
// then removes each security rule of rules.ts in turn and runs only the test files that rule names. A rule counts as
// killed only when one of its named tests fails on an assertion; a crash, a timeout, a failure of another kind or only
// of other tests is reported as such, with its log. src/ is left exactly as it was found, also when interrupted.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type MutationRule, RULES } from "./rules";
import { recoverInterruptedRun, StaleMutation, withMutation } from "./source-edit";
import { openWorkerSuite, PROJECT_ROOT, type SuiteRun, type TestOutcome, type WorkerSuite } from "./vitest-run";

const USAGE = `Usage: npm run test:mutations [-- options]

Runs the unmutated worker suite (it must pass), then removes each security rule of test/mutations/rules.ts in turn
and checks that a test named for it fails on an assertion. Exits 0 only when every selected rule is killed.

Options:
  --rule <id>     only this rule (repeatable; a prefix selects every rule that starts with it)
  --list          print the rules and the tests each names, then exit
  --skip-baseline do not run the whole suite first: only after it has just passed (CI, after npm test), or
                  when iterating on one rule; a rule naming a missing test is still reported, as stale
  --restore       put back a source file a killed run left mutated, then exit
  --help          this text`;

/** A baseline of the whole suite on this two-core machine takes well under a minute; a hung run is cut off. */
const BASELINE_TIMEOUT_MS = 300_000;
const RULE_TIMEOUT_MS = 180_000;
const LOG_TAIL_LINES = 30;

type Verdict = "killed" | "survived" | "failed-otherwise" | "other-tests-only" | "crashed" | "timed-out" | "stale";

interface RuleResult {
  rule: MutationRule;
  verdict: Verdict;
  detail: string;
  logPath?: string;
  durationMs: number;
}

/** A test reference "file › titles" matches a test of that file whose titles end with the given ones. */
function matches(reference: string, test: TestOutcome): boolean {
  const at = reference.indexOf(" › ");
  const file = reference.slice(0, at);
  const titles = reference.slice(at + 3);
  return test.file === file && (test.name === titles || test.name.endsWith(` › ${titles}`));
}

function resolveReferences(rule: MutationRule, tests: TestOutcome[]): { found: TestOutcome[]; problems: string[] } {
  const found: TestOutcome[] = [];
  const problems: string[] = [];
  for (const reference of rule.tests) {
    const hits = tests.filter((test) => matches(reference, test));
    if (hits.length === 1) found.push(hits[0]!);
    else problems.push(`${hits.length === 0 ? "no test" : `${hits.length} tests`} match "${reference}"`);
  }
  return { found, problems };
}

function filesOf(rule: MutationRule): string[] {
  return [...new Set(rule.tests.map((reference) => reference.slice(0, reference.indexOf(" › "))))];
}

/** The last title of each test the rule names: enough for vitest's name filter, which the references then narrow. */
function titlesOf(rule: MutationRule): string[] {
  return rule.tests.map((reference) => reference.slice(reference.lastIndexOf(" › ") + 3));
}

function tail(path: string): string {
  try {
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    return lines.slice(-LOG_TAIL_LINES).join("\n");
  } catch {
    return "(no log)";
  }
}

/** A fingerprint of every file under src/, to prove the run left it exactly as it found it. */
function sourceFingerprint(): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update("\0").update(readFileSync(path)).update("\0");
    }
  };
  walk(join(PROJECT_ROOT, "src"));
  return hash.digest("hex");
}

function judge(rule: MutationRule, run: SuiteRun): Omit<RuleResult, "rule" | "durationMs"> {
  const logPath = run.logPath;
  if (run.timedOut) return { verdict: "timed-out", detail: `no result within ${RULE_TIMEOUT_MS / 1000} s`, logPath };
  if (!run.completed) return { verdict: "crashed", detail: "vitest failed to run the files", logPath };
  const { found, problems } = resolveReferences(rule, run.tests);
  if (problems.length > 0) return { verdict: "stale", detail: problems.join("; "), logPath };
  const onAssertion = found.filter((test) => test.failedOnAssertion);
  if (onAssertion.length > 0) {
    const count = `${onAssertion.length} of ${found.length} named tests failed`;
    return { verdict: "killed", detail: `${count}; ${onAssertion[0]!.name}: ${onAssertion[0]!.message}`, logPath };
  }
  const otherwise = found.filter((test) => test.status === "failed");
  if (otherwise.length > 0) {
    return {
      verdict: "failed-otherwise",
      detail: `${otherwise[0]!.name} failed, but not on an assertion: ${otherwise[0]!.message}`,
      logPath,
    };
  }
  const others = run.tests.filter((test) => test.status === "failed");
  if (others.length > 0) {
    return {
      verdict: "other-tests-only",
      detail: `only tests it does not name failed, e.g. ${others[0]!.file} › ${others[0]!.name}`,
      logPath,
    };
  }
  return { verdict: "survived", detail: "every test it names still passes", logPath };
}

async function main(): Promise<number> {
  let options: { rule?: string[]; list?: boolean; "skip-baseline"?: boolean; restore?: boolean; help?: boolean };
  try {
    options = parseArgs({
      options: {
        rule: { type: "string", multiple: true },
        list: { type: "boolean" },
        "skip-baseline": { type: "boolean" },
        restore: { type: "boolean" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.restore) {
    const restored = recoverInterruptedRun();
    console.log(restored ? `restored ${restored}` : "nothing to restore: no mutation run was interrupted");
    return 0;
  }
  const selected = options.rule ? RULES.filter((r) => options.rule!.some((id) => r.id.startsWith(id))) : RULES;
  if (selected.length === 0) {
    console.error(`error: no rule starts with ${options.rule!.join(" or ")} (npm run test:mutations -- --list)`);
    return 2;
  }
  if (options.list) {
    for (const rule of selected) console.log(`${rule.id}  ${rule.file}\n    ${rule.tests.join("\n    ")}`);
    return 0;
  }

  const recovered = recoverInterruptedRun();
  if (recovered) console.log(`restored ${recovered}, which an interrupted run had left mutated`);
  const before = sourceFingerprint();
  const logDir = await mkdtemp(join(tmpdir(), "mutations-"));
  const started = Date.now();
  const suite = await openWorkerSuite();
  try {
    return await judgeAll(suite, selected, {
      logDir,
      started,
      before,
      skipBaseline: options["skip-baseline"] === true,
    });
  } finally {
    await suite.close();
  }
}

async function judgeAll(
  suite: WorkerSuite,
  selected: MutationRule[],
  run: { logDir: string; started: number; before: string; skipBaseline: boolean },
): Promise<number> {
  const { logDir, started, before } = run;
  if (!run.skipBaseline) {
    const baseline = await suite.run([], { logDir, label: "baseline", timeoutMs: BASELINE_TIMEOUT_MS });
    const failed = baseline.tests.filter((test) => test.status === "failed");
    if (!baseline.completed || failed.length > 0) {
      console.error("The baseline is red: the unmutated suite must pass before any rule can be judged.");
      for (const test of failed) console.error(`  failed: ${test.file} › ${test.name}: ${test.message}`);
      if (!baseline.completed) console.error(`  vitest ${baseline.timedOut ? "timed out" : "failed to run the files"}`);
      console.error(`\n${tail(baseline.logPath)}\n(full log: ${baseline.logPath})`);
      return 1;
    }
    const unresolved = selected.flatMap((rule) =>
      resolveReferences(rule, baseline.tests).problems.map((p) => `${rule.id}: ${p}`),
    );
    if (unresolved.length > 0) {
      console.error(`Rules name tests the suite does not have:\n  ${unresolved.join("\n  ")}`);
      return 1;
    }
    console.log(`baseline: ${baseline.tests.length} tests pass (${(baseline.durationMs / 1000).toFixed(0)} s)`);
  }

  const results: RuleResult[] = [];
  for (const [index, rule] of selected.entries()) {
    const ruleStarted = Date.now();
    let result: RuleResult;
    try {
      const outcome = await withMutation(rule.file, rule.find, rule.replace, () => {
        suite.invalidate(rule.file);
        return suite.run(filesOf(rule), {
          logDir,
          label: `${index + 1}-${rule.id}`,
          timeoutMs: RULE_TIMEOUT_MS,
          onlyTitles: titlesOf(rule),
        });
      });
      result = { rule, ...judge(rule, outcome), durationMs: Date.now() - ruleStarted };
    } catch (err) {
      if (!(err instanceof StaleMutation)) throw err;
      result = { rule, verdict: "stale", detail: `the check's text: ${err.message}`, durationMs: 0 };
    } finally {
      // The restored source is what the next run reads.
      suite.invalidate(rule.file);
    }
    results.push(result);
    const label = result.verdict === "killed" ? "killed  " : result.verdict.toUpperCase();
    console.log(`${label} ${rule.id} (${(result.durationMs / 1000).toFixed(1)} s): ${result.detail}`);
    if (result.verdict !== "killed" && result.logPath)
      console.log(`${tail(result.logPath)}\n(full log: ${result.logPath})\n`);
  }

  const after = sourceFingerprint();
  const notKilled = results.filter((r) => r.verdict !== "killed");
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(
    `\n${results.length - notKilled.length} of ${results.length} rules killed in ${minutes} min; logs in ${logDir}`,
  );
  for (const r of notKilled) console.log(`  ${r.verdict}: ${r.rule.id} (${r.rule.file})`);
  if (after !== before) {
    console.error("src/ differs from what this run found: a mutation was not restored.");
    return 1;
  }
  return notKilled.length === 0 ? 0 : 1;
}

process.exitCode = await main();
