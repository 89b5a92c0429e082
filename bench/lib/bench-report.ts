// Turns bench measurements into the results file (JSON) and the markdown summary: tables, ratios, and the issue's
// targets checked against the numbers. Pure apart from writing the results file; never runs load.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LoadRunResult } from "./load-run";
import type { Machine } from "./process-cpu";

export type Target = "endpoint" | "endpoint-no-client-cache" | "platform-floor" | "crypto-bound" | "http-only";

export interface TaggedRun extends LoadRunResult {
  target: Target;
  /** Client key algorithm (endpoint and crypto bound). */
  alg?: string;
}

export interface ScalingRow {
  name: string;
  run: LoadRunResult;
  /** req/s of this row divided by the baseline's. */
  throughputRatio: number;
  /** workerd CPU per request of this row divided by the baseline's. */
  cpuRatio: number;
  /** Whether the "within 10 % of baseline" applies (false for informational rows). */
  judged: boolean;
}

export interface StorageBound {
  run: LoadRunResult;
  assertionLifetimeSeconds: number;
  rowsAfterLoad: number;
  rowsAtEnd: number;
  /** Seconds from the last assertion's expiry until the row count was first seen at zero (null: never). */
  secondsPastWindowUntilEmpty: number | null;
}

/** One side of the DPoP comparison: its merged run and the SQLite rows its client's authority wrote per token. */
export interface DpopSide {
  run: LoadRunResult;
  /** Tokens the server issued while counting (assertion jtis spent), answered or still in flight when a round ended. */
  tokens: number;
  rowsWritten: number;
  rowsWrittenPerToken: number;
  /** Rows written per token, by SQL statement (its first 60 characters). */
  rowsPerTokenByStatement: Record<string, number>;
}

export interface DpopComparison {
  bearer: DpopSide;
  dpop: DpopSide;
  /** The crypto-bound Worker verifying one ES256 signature per request, and the same with no crypto. */
  verifyOnly: LoadRunResult;
  httpOnly: LoadRunResult;
}

/** One endpoint's run, and what each request cost the clients' authorities. */
export interface IssuedTokenSide {
  run: LoadRunResult;
  /** Requests the server answered while counting (its caller's authority's consume calls). */
  requests: number;
  /** Durable Object calls per request: the caller's consume, and the call about the token. */
  objectCallsPerRequest: number;
  /** SQLite rows written per request, by every authority involved. */
  rowsWrittenPerRequest: number;
}

/** Revocation and introspection against a token request of the same key, interleaved in rounds. */
export interface IssuedTokenCosts {
  reference: IssuedTokenSide;
  introspection: IssuedTokenSide;
  revocation: IssuedTokenSide;
  rowsByStatement: Record<string, Record<string, { rows: number; statements: number }>>;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  date: string;
  git: { commit: string; dirtyFiles: string[] };
  machine: Machine;
  settings: { durationSeconds: number; scalingDurationSeconds: number; accessTokenAlg: string };
  bundle: { bytes: number; gzipBytes: number; wranglerSummary: string };
  runs: TaggedRun[];
  scaling: ScalingRow[];
  storageBound: StorageBound;
  dpop: DpopComparison;
  issuedTokens: IssuedTokenCosts;
  targets: TargetCheck[];
}

const MAX_BUNDLE_GZIP_BYTES = 64 * 1024;

function find(runs: readonly TaggedRun[], target: Target, connections: number, alg?: string): TaggedRun | undefined {
  return runs.find((r) => r.target === target && r.connections === connections && (alg === undefined || r.alg === alg));
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);

/** The targets, checked at concurrency 10 for every client key algorithm. */
export function checkTargets(
  runs: readonly TaggedRun[],
  scaling: readonly ScalingRow[],
  storage: StorageBound,
  bundleGzipBytes: number,
  algorithms: readonly string[],
  dpop: DpopComparison,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const floor = find(runs, "platform-floor", 10);
  for (const alg of algorithms) {
    const endpoint = find(runs, "endpoint", 10, alg);
    const crypto = find(runs, "crypto-bound", 10, alg);
    if (!endpoint || !floor || !crypto) continue;
    const budget = floor.workerdCpuMsPerRequest + 2 * crypto.workerdCpuMsPerRequest;
    checks.push({
      target: `${alg}: CPU per token <= floor + 2 x crypto bound`,
      measured: `${fixed(endpoint.workerdCpuMsPerRequest, 3)} ms vs ${fixed(budget, 3)} ms (${fixed(endpoint.workerdCpuMsPerRequest / budget)} of budget)`,
      met: endpoint.workerdCpuMsPerRequest <= budget,
    });
    const ratio = endpoint.requestsPerSecond / floor.requestsPerSecond;
    checks.push({
      target: `${alg}: req/s at c=10 >= 0.7 x floor`,
      measured: `${endpoint.requestsPerSecond} vs ${floor.requestsPerSecond} req/s (${fixed(ratio)} x)`,
      met: ratio >= 0.7,
    });
    checks.push({
      target: `${alg}: p99 < 20 ms at c=10`,
      measured: `${fixed(endpoint.latencyMs.p99, 0)} ms (floor ${fixed(floor.latencyMs.p99, 0)} ms, crypto bound ${fixed(crypto.latencyMs.p99, 0)} ms)`,
      met: endpoint.latencyMs.p99 < 20,
    });
  }
  const endpointRuns = [
    ...runs.filter((r) => r.target.startsWith("endpoint")),
    ...scaling.map((s) => s.run),
    storage.run,
    dpop.bearer.run,
    dpop.dpop.run,
  ];
  const refused = endpointRuns.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  checks.push({
    target: "zero non-2xx (every token service run)",
    measured: `${refused} non-2xx or errors`,
    met: refused === 0,
  });
  // Judged on CPU per token: on a shared machine a row's req/s swings far more between its own rounds than 10 %.
  for (const row of scaling.filter((s, index) => s.judged && index > 0)) {
    checks.push({
      target: `scaling within 10 % (CPU per token): ${row.name}`,
      measured: `${fixed(row.cpuRatio)} x baseline CPU/req (req/s ${fixed(row.throughputRatio)} x)`,
      met: row.cpuRatio <= 1.1,
    });
  }
  // The goal: a proof costs at most one more signature verification, and at most one more row written.
  const extra = dpop.dpop.run.workerdCpuMsPerRequest - dpop.bearer.run.workerdCpuMsPerRequest;
  const oneVerify = dpop.verifyOnly.workerdCpuMsPerRequest - dpop.httpOnly.workerdCpuMsPerRequest;
  checks.push({
    target: "DPoP: extra CPU per token <= one ES256 verification",
    measured: `+${fixed(extra, 3)} ms (${fixed(dpop.dpop.run.workerdCpuMsPerRequest, 3)} vs ${fixed(dpop.bearer.run.workerdCpuMsPerRequest, 3)} ms); one verification ${fixed(oneVerify, 3)} ms`,
    met: extra <= oneVerify,
  });
  const extraRows = dpop.dpop.rowsWrittenPerToken - dpop.bearer.rowsWrittenPerToken;
  checks.push({
    target: "DPoP: at most one more SQLite row written per token",
    measured: `${fixed(dpop.dpop.rowsWrittenPerToken)} vs ${fixed(dpop.bearer.rowsWrittenPerToken)} rows/token (+${fixed(extraRows)})`,
    met: extraRows <= 1,
  });
  checks.push({
    target: "replay rows back to zero after the window",
    measured: `${storage.rowsAfterLoad} -> ${storage.rowsAtEnd} rows`,
    met: storage.rowsAtEnd === 0,
  });
  checks.push({
    target: "bundle < 64 KiB gzip",
    measured: `${fixed(bundleGzipBytes / 1024, 1)} KiB`,
    met: bundleGzipBytes < MAX_BUNDLE_GZIP_BYTES,
  });
  return checks;
}

const TARGET_NAMES: Record<Target, string> = {
  endpoint: "token endpoint",
  "endpoint-no-client-cache": "token endpoint, CLIENT_CACHE_TTL=0",
  "platform-floor": "platform floor",
  "crypto-bound": "crypto bound",
  "http-only": "HTTP only (no crypto)",
};

export function summaryMarkdown(results: BenchResults): string {
  const lines: string[] = [];
  const { machine, bundle } = results;
  lines.push(
    `Machine: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, load average ${machine.loadAverageAtStart ?? "?"} ` +
      `at start. Commit ${results.git.commit.slice(0, 10)}` +
      (results.git.dirtyFiles.length > 0 ? ` with uncommitted changes in ${results.git.dirtyFiles.join(", ")}` : "") +
      `. Each row ${results.settings.durationSeconds} s (scaling rows ${results.settings.scalingDurationSeconds} s) in interleaved rounds. ` +
      `Access tokens signed ${results.settings.accessTokenAlg}.`,
    "",
    `Bundle: ${fixed(bundle.bytes / 1024, 1)} KiB, ${fixed(bundle.gzipBytes / 1024, 1)} KiB gzip (${bundle.wranglerSummary}).`,
    "",
    "| what | key | c | req/s | x floor | p50 ms | p90 ms | p99 ms | non-2xx | workerd CPU ms/req |",
    "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |",
  );
  for (const run of results.runs) {
    const floor = find(results.runs, "platform-floor", run.connections);
    lines.push(
      `| ${TARGET_NAMES[run.target]} | ${run.alg ?? ""} | ${run.connections} | ${run.requestsPerSecond} | ` +
        `${floor ? fixed(run.requestsPerSecond / floor.requestsPerSecond) : ""} | ${fixed(run.latencyMs.p50, 0)} | ` +
        `${fixed(run.latencyMs.p90, 0)} | ${fixed(run.latencyMs.p99, 0)} | ${run.non2xx + run.errors} | ` +
        `${fixed(run.workerdCpuMsPerRequest, 3)} |`,
    );
  }
  lines.push(
    "",
    "Scaling (ES256, c=10, rows interleaved in rounds; ratios to the baseline row; req/s of each round shows the noise):",
    "",
    "| row | req/s | req/s ratio | CPU ms/req | CPU ratio | p99 ms | non-2xx | req/s per round |",
    "| --- | --: | --: | --: | --: | --: | --: | --- |",
  );
  for (const row of results.scaling) {
    const rounds = (row.run.rounds ?? []).map((r) => r.requestsPerSecond).join(" / ");
    lines.push(
      `| ${row.name}${row.judged ? "" : " (informational)"} | ${row.run.requestsPerSecond} | ${fixed(row.throughputRatio)} | ` +
        `${fixed(row.run.workerdCpuMsPerRequest, 3)} | ${fixed(row.cpuRatio)} | ${fixed(row.run.latencyMs.p99, 0)} | ` +
        `${row.run.non2xx + row.run.errors} | ${rounds} |`,
    );
  }
  const { bearer, dpop, verifyOnly, httpOnly } = results.dpop;
  lines.push(
    "",
    "DPoP (ES256 client key, ES256 proof key, c=10, interleaved in rounds with one ES256 verification and the same " +
      "request with no crypto; rows = SQLite rows the client's authority wrote, cursor.rowsWritten, per statement):",
    "",
    "| run | req/s | p99 ms | CPU ms/req | non-2xx | rows per token |",
    "| --- | --: | --: | --: | --: | --- |",
  );
  for (const [name, side] of [
    ["Bearer tokens", bearer],
    ["DPoP-bound tokens", dpop],
  ] as const) {
    const statements = Object.entries(side.rowsPerTokenByStatement)
      .map(([statement, rows]) => `${fixed(rows)} \`${statement.split(" (")[0]}\``)
      .join(", ");
    lines.push(
      `| ${name} | ${side.run.requestsPerSecond} | ${fixed(side.run.latencyMs.p99, 0)} | ${fixed(side.run.workerdCpuMsPerRequest, 3)} | ` +
        `${side.run.non2xx + side.run.errors} | ${fixed(side.rowsWrittenPerToken)}: ${statements} |`,
    );
  }
  for (const [name, run] of [
    ["one ES256 verification", verifyOnly],
    ["HTTP only", httpOnly],
  ] as const) {
    lines.push(
      `| ${name} | ${run.requestsPerSecond} | ${fixed(run.latencyMs.p99, 0)} | ${fixed(run.workerdCpuMsPerRequest, 3)} | ${run.non2xx + run.errors} | |`,
    );
  }
  const issued = results.issuedTokens;
  lines.push(
    "",
    "Revocation and introspection (ES256 caller key, c=10, interleaved in rounds with a token request; object calls " +
      "and SQLite rows counted in the authorities of every client involved, per request answered):",
    "",
    "| run | req/s | p99 ms | CPU ms/req | non-2xx | Durable Object calls / req | rows written / req |",
    "| --- | --: | --: | --: | --: | --: | --: |",
  );
  for (const [name, side] of [
    ["token request (reference)", issued.reference],
    ["introspection", issued.introspection],
    ["revocation", issued.revocation],
  ] as const) {
    lines.push(
      `| ${name} | ${side.run.requestsPerSecond} | ${fixed(side.run.latencyMs.p99, 0)} | ` +
        `${fixed(side.run.workerdCpuMsPerRequest, 3)} | ${side.run.non2xx + side.run.errors} | ` +
        `${fixed(side.objectCallsPerRequest)} | ${fixed(side.rowsWrittenPerRequest)} |`,
    );
  }
  const storage = results.storageBound;
  lines.push(
    "",
    `Storage bound: ${storage.run.ok} tokens issued with ASSERTION_MAX_LIFETIME=${storage.assertionLifetimeSeconds}, CLOCK_SKEW=0; ` +
      `replay rows ${storage.rowsAfterLoad} after the run, ${storage.rowsAtEnd} at the end` +
      (storage.secondsPastWindowUntilEmpty === null
        ? " (never reached zero)."
        : ` (zero ${fixed(storage.secondsPastWindowUntilEmpty, 1)} s after the last assertion expired).`),
    "",
    "| target | measured | met |",
    "| --- | --- | --- |",
  );
  for (const check of results.targets)
    lines.push(`| ${check.target} | ${check.measured} | ${check.met ? "yes" : "**no**"} |`);
  return lines.join("\n");
}

export async function writeResults(projectRoot: string, results: BenchResults): Promise<string> {
  const directory = join(projectRoot, "bench", "results");
  await mkdir(directory, { recursive: true });
  const path = join(directory, `${results.date}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
