// Runs the in-workerd suite (or some of its files) as a child process with vitest's JSON reporter, and reads back
// what happened to each test: passed, failed on an assertion, failed otherwise (a thrown error, a timeout). Never
// edits a file; the caller decides what a result means.
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";

export const PROJECT_ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** vitest's own entry, run with this Node: `npx` would add about half a second to each of some 200 runs. */
const VITEST_BIN = join(PROJECT_ROOT, "node_modules/vitest/vitest.mjs");

/** One test as vitest's JSON reporter names it: its file (relative to the root) and its titles joined by " › ". */
export interface TestOutcome {
  file: string;
  name: string;
  status: "passed" | "failed" | "skipped";
  /** For a failed test: whether it failed on an expect() assertion, and the first line of its message. */
  failedOnAssertion: boolean;
  message: string;
}

export interface SuiteRun {
  /** The JSON report could be read: vitest ran to the end. */
  completed: boolean;
  timedOut: boolean;
  exitCode: number | null;
  tests: TestOutcome[];
  /** Where the run's full output is kept. */
  logPath: string;
  durationMs: number;
}

interface JsonReport {
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string; failureMessages: string[] }>;
  }>;
}

/**
 * expect() failures: chai's AssertionError, and the `.rejects` / `.resolves` matchers, whose failure is a plain
 * Error worded "promise resolved ... instead of rejecting". A TypeError, a test timeout or any other throw is not one.
 */
export function isAssertionFailure(message: string): boolean {
  if (/^AssertionError\b/.test(message)) return true;
  if (/^Error: promise (resolved|rejected) .* instead of (rejecting|resolving)/.test(message)) return true;
  // A fast-check property reports what its counterexample failed on further down.
  return /^Error: Property failed after/.test(message) && /\nGot AssertionError\b/.test(message);
}

function outcomesOf(report: JsonReport): TestOutcome[] {
  const outcomes: TestOutcome[] = [];
  for (const file of report.testResults) {
    const path = relative(PROJECT_ROOT, file.name);
    for (const test of file.assertionResults) {
      const message = test.failureMessages[0] ?? "";
      outcomes.push({
        file: path,
        name: [...test.ancestorTitles, test.title].join(" › "),
        status: test.status === "passed" ? "passed" : test.status === "failed" ? "failed" : "skipped",
        failedOnAssertion: test.status === "failed" && isAssertionFailure(message),
        message: message.split("\n")[0] ?? "",
      });
    }
    // A file that failed to load reports no tests, only a message.
    if (file.status === "failed" && file.assertionResults.length === 0) {
      outcomes.push({
        file: path,
        name: "(the file itself)",
        status: "failed",
        failedOnAssertion: false,
        message: (file.message ?? "failed to load").split("\n")[0] ?? "",
      });
    }
  }
  return outcomes;
}

/**
 * Runs `vitest run` on the worker config for `files` (all of its files when empty), or only the tests whose titles
 * end with one of `onlyTitles`, killed after `timeoutMs`.
 */
export async function runWorkerSuite(
  files: string[],
  options: { logDir: string; label: string; timeoutMs: number; onlyTitles?: string[] },
) {
  await mkdir(options.logDir, { recursive: true });
  const reportPath = join(options.logDir, `${options.label}.json`);
  const logPath = join(options.logDir, `${options.label}.log`);
  await rm(reportPath, { force: true });
  const args = [
    VITEST_BIN,
    "run",
    "--config",
    "test/vitest.worker.config.ts",
    "--reporter=json",
    `--outputFile=${reportPath}`,
    ...files,
  ];
  // Only the tests asked for (vitest matches the pattern against each test's full name); the rest are skipped.
  if (options.onlyTitles?.length) {
    args.push(
      "--testNamePattern",
      options.onlyTitles.map((title) => title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"),
    );
  }
  const started = Date.now();
  const output: string[] = [];
  const { exitCode, timedOut } = await new Promise<{ exitCode: number | null; timedOut: boolean }>((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let killed = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    // However this process ends (a signal included: source-edit.ts exits on one), the run it started ends too.
    process.once("exit", killGroup);
    const timer = setTimeout(() => {
      killed = true;
      killGroup();
    }, options.timeoutMs);
    child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.on("close", (code) => {
      clearTimeout(timer);
      process.removeListener("exit", killGroup);
      resolve({ exitCode: code, timedOut: killed });
    });
  });
  await writeFile(logPath, output.join(""));
  let tests: TestOutcome[] = [];
  let completed = false;
  if (!timedOut) {
    try {
      tests = outcomesOf(JSON.parse(await readFile(reportPath, "utf8")) as JsonReport);
      completed = true;
    } catch {
      // no report: vitest itself crashed
    }
  }
  return { completed, timedOut, exitCode, tests, logPath, durationMs: Date.now() - started } satisfies SuiteRun;
}
