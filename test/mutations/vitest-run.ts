// Runs the in-workerd suite (or some of its files, or some of their tests) in one vitest instance kept open for the
// whole mutation check, and reads back what happened to each test: passed, failed on an assertion, failed otherwise
// (a thrown error, a timeout). One instance and one workerd serve every run, about 1.5 s each instead of the 4 s a new
// process costs; a source file the caller edits is re-read on the next run once it has been invalidated, and the
// Durable Object classes are reloaded with it. Never edits a file; the caller decides what a result means.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { TestCase, TestModule, Vitest } from "vitest/node";
import { createVitest } from "vitest/node";

export const PROJECT_ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const WORKER_CONFIG = "test/vitest.worker.config.ts";
/** How long a hung instance may take to close before the check goes on with a new one. */
const CLOSE_TIMEOUT_MS = 10_000;

/** One test as its module and titles name it: its file (relative to the root) and its titles joined by " › ". */
export interface TestOutcome {
  file: string;
  name: string;
  status: "passed" | "failed" | "skipped";
  /** For a failed test: whether it failed on an expect() assertion, and the first line of its message. */
  failedOnAssertion: boolean;
  message: string;
}

export interface SuiteRun {
  /** vitest ran to the end and reported every test it ran. */
  completed: boolean;
  timedOut: boolean;
  tests: TestOutcome[];
  /** Where the run's failures are written out in full. */
  logPath: string;
  durationMs: number;
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

function titlesOf(test: TestCase): string[] {
  const titles = [test.name];
  for (let parent = test.parent; parent.type === "suite"; parent = parent.parent) titles.unshift(parent.name);
  return titles;
}

/** Collects what one run reported, test by test; reset before each run, so nothing of an earlier run is counted. */
class OutcomeCollector {
  outcomes: TestOutcome[] = [];
  fullMessages: string[] = [];

  onTestCaseResult(test: TestCase) {
    const result = test.result();
    const full = (result.errors ?? []).map((e) => e.stack || e.message);
    const message = full[0] ?? "";
    const status = result.state === "passed" ? "passed" : result.state === "failed" ? "failed" : "skipped";
    const file = relative(PROJECT_ROOT, test.module.moduleId);
    const name = titlesOf(test).join(" › ");
    this.outcomes.push({
      file,
      name,
      status,
      failedOnAssertion: status === "failed" && isAssertionFailure(message),
      message: message.split("\n")[0] ?? "",
    });
    if (status === "failed") this.fullMessages.push(`FAILED ${file} › ${name}\n${full.join("\n")}\n`);
  }

  // A file that failed to load reports no tests, only errors.
  onTestModuleEnd(module: TestModule) {
    const errors = module.errors();
    if (module.state() !== "failed" || errors.length === 0) return;
    const file = relative(PROJECT_ROOT, module.moduleId);
    if (this.outcomes.some((outcome) => outcome.file === file)) return;
    const message = errors.map((e) => e.stack || e.message).join("\n");
    this.outcomes.push({
      file,
      name: "(the file itself)",
      status: "failed",
      failedOnAssertion: false,
      message: message.split("\n")[0] ?? "failed to load",
    });
    this.fullMessages.push(`FAILED TO LOAD ${file}\n${message}\n`);
  }
}

export interface WorkerSuite {
  /**
   * Runs `files` (every file of the worker config when empty), or only the tests whose titles end with one of
   * `onlyTitles`, given up after `timeoutMs`.
   */
  run(
    files: string[],
    options: { logDir: string; label: string; timeoutMs: number; onlyTitles?: string[] },
  ): Promise<SuiteRun>;
  /** Makes the next run read `path` (relative to the root) again. */
  invalidate(path: string): void;
  close(): Promise<void>;
}

async function openInstance(collector: OutcomeCollector): Promise<Vitest> {
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  const vitest = await createVitest("test", {
    root: PROJECT_ROOT,
    config: join(PROJECT_ROOT, WORKER_CONFIG),
    watch: false,
    reporters: [collector],
  });
  await vitest.standalone();
  return vitest;
}

function closeWithin(vitest: Vitest): Promise<void> {
  return Promise.race([vitest.close(), new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS))]);
}

/** Opens the worker suite; `close()` it when done. */
export async function openWorkerSuite(): Promise<WorkerSuite> {
  const collector = new OutcomeCollector();
  let vitest = await openInstance(collector);
  return {
    async run(files, options) {
      await mkdir(options.logDir, { recursive: true });
      const logPath = join(options.logDir, `${options.label}.log`);
      // Only the tests asked for (vitest matches the pattern against each test's full name); the rest are skipped.
      if (options.onlyTitles?.length) {
        const escaped = options.onlyTitles.map((title) => title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
        vitest.setGlobalTestNamePattern(new RegExp(escaped.join("|")));
      } else {
        vitest.resetGlobalTestNamePattern();
      }
      collector.outcomes = [];
      collector.fullMessages = [];
      const started = Date.now();
      const specifications = await vitest.globTestSpecifications(files.map((file) => join(PROJECT_ROOT, file)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timed-out">((resolve) => {
        timer = setTimeout(() => resolve("timed-out"), options.timeoutMs);
      });
      const running = vitest.runTestSpecifications(specifications).then(
        (result) => ({ crashed: false, errors: result.unhandledErrors.map((e) => String((e as Error).stack ?? e)) }),
        (err: unknown) => ({ crashed: true, errors: [String((err as Error).stack ?? err)] }),
      );
      const outcome = await Promise.race([running, timeout]);
      clearTimeout(timer);
      const timedOut = outcome === "timed-out";
      const crashed = !timedOut && outcome.crashed;
      const unhandled = timedOut ? [] : outcome.errors;
      await writeFile(
        logPath,
        [
          `${options.label}: ${collector.outcomes.length} tests reported${timedOut ? ", then timed out" : ""}`,
          ...collector.fullMessages,
          ...unhandled.map((e) => `${crashed ? "CRASHED" : "UNHANDLED"} ${e}`),
        ].join("\n"),
      );
      if (timedOut || crashed) {
        // A hung or broken instance is dropped; the next run gets a new one.
        await closeWithin(vitest);
        vitest = await openInstance(collector);
      }
      const tests = [...collector.outcomes];
      return { completed: !timedOut && !crashed, timedOut, tests, logPath, durationMs: Date.now() - started };
    },
    invalidate(path) {
      vitest.invalidateFile(join(PROJECT_ROOT, path));
    },
    close: () => closeWithin(vitest),
  };
}
