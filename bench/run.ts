// `npm run bench`: builds the Worker, runs it in workerd through Miniflare next to the platform-floor and crypto-bound
// reference Workers, drives them with autocannon, and writes bench/results/<date>.json plus a markdown summary.
// Options: --duration <s> (main runs, default 3), --scaling-duration <s> (default 2). Local loopback traffic only.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { newSigningKeySet } from "../scripts/lib/signing-keys";
import { startBenchRuntime, type BenchRuntime, type TokenServiceVariant } from "./lib/bench-runtime";
import { checkTargets, summaryMarkdown, writeResults, type BenchResults, type ScalingRow, type StorageBound, type TaggedRun, type Target } from "./lib/bench-report";
import { clientRecord, newClientKeyPair, RequestBodyPool, tokenRequestBody, type AssertionSpec, type ClientAlgorithm, type ClientKeyPair } from "./lib/client-fixtures";
import { repeatingBodies, runLoad, type LoadRunResult, type RequestBodySource } from "./lib/load-run";
import { describeMachine, workerdProcessIds } from "./lib/process-cpu";
import { buildWorkerBundle } from "./lib/worker-bundle";

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const ISSUER = "https://as.bench.test";
const ALGORITHMS: readonly ClientAlgorithm[] = ["ES256", "PS256", "RS256"];
const CONCURRENCY = [1, 10, 50] as const;
const SCALING_CONCURRENCY = 10;
/** Assertion lifetime for the main runs: within ASSERTION_MAX_LIFETIME (300) with room for a slow machine. */
const ASSERTION_LIFETIME = 240;
/** The short-window variant's ASSERTION_MAX_LIFETIME (bench-runtime.ts), used by the storage-bound run. */
const SHORT_WINDOW_LIFETIME = 10;
/** ReplayGuard waits this long past the earliest expiry before purging (PURGE_BATCH_DELAY_MS in src/replay-guard.ts). */
const PURGE_BATCH_DELAY_SECONDS = 5;
const REGISTERED_CLIENTS = 10_000;
const PREFILLED_JTIS = 100_000;
const KEYS_PER_BIG_CLIENT = 20;
/** Without `kid` the service tries at most this many fitting keys (LIMITS.maxKeysTriedPerRequest). */
const KEYS_TRIED_WITHOUT_KID = 4;

const { values: args } = parseArgs({
  options: { duration: { type: "string", default: "3" }, "scaling-duration": { type: "string", default: "2" } },
});
const DURATION = Number(args.duration);
const SCALING_DURATION = Number(args["scaling-duration"]);

function log(message: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function gitState(): { commit: string; dirtyFiles: string[] } {
  const git = (...argv: string[]) => execFileSync("git", argv, { cwd: PROJECT_ROOT, encoding: "utf8" }).trim();
  try {
    const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml", "package.json");
    return { commit: git("rev-parse", "HEAD"), dirtyFiles: dirty ? dirty.split("\n").map((l) => l.replace(/^\s*\S+\s+/, "")) : [] };
  } catch {
    return { commit: "unknown", dirtyFiles: [] };
  }
}

function compatibilityDate(): string {
  const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
  const match = /^compatibility_date\s*=\s*"([0-9-]+)"/m.exec(toml);
  if (!match?.[1]) throw new Error("wrangler.toml has no compatibility_date");
  return match[1];
}

/** Pool size for a run: the expected request count with headroom, so a run ends by time, not by running dry. */
function poolSizeFor(expectedRate: number, seconds: number): number {
  return Math.ceil(expectedRate * seconds * 1.6) + 200;
}

interface Bench {
  runtime: BenchRuntime;
  workerdPids: number[];
}

async function load(bench: Bench, label: string, url: URL, connections: number, seconds: number, bodies: RequestBodySource) {
  const result = await runLoad({ label, url: url.href, connections, durationSeconds: seconds, bodies, workerdPids: bench.workerdPids });
  log(
    `${label} c=${connections}: ${result.requestsPerSecond} req/s, p99 ${result.latencyMs.p99} ms, ` +
      `${result.workerdCpuMsPerRequest} ms CPU/req, non-2xx ${result.non2xx}, errors ${result.errors}` +
      (result.poolRanLow ? " (pool ran low: stopped early)" : ""),
  );
  return result;
}

function recordEntry(clientId: string, keys: readonly ClientKeyPair[], withKids = true): [string, string] {
  const jwks = keys.map((k) => {
    if (withKids) return k.publicJwk;
    const { kid: _kid, ...rest } = k.publicJwk;
    return rest;
  });
  return [`client:${clientId}`, JSON.stringify(clientRecord(clientId, jwks))];
}

async function registerClient(bench: Bench, clientId: string, keys: readonly ClientKeyPair[], withKids = true) {
  await bench.runtime.clients.putAll([recordEntry(clientId, keys, withKids)]);
}

/** Runs the token service with a fresh pool of unique assertions for `spec`. */
async function loadTokenService(
  bench: Bench,
  label: string,
  variant: TokenServiceVariant,
  connections: number,
  seconds: number,
  expectedRate: number,
  assertionFor: (index: number) => AssertionSpec,
): Promise<LoadRunResult> {
  const pool = await RequestBodyPool.build(poolSizeFor(expectedRate, seconds), assertionFor);
  return load(bench, label, bench.runtime.urls.token[variant], connections, seconds, pool);
}

async function main() {
  const machine = describeMachine();
  const git = gitState();
  log(`machine: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}`);
  if (git.dirtyFiles.length > 0) log(`note: measuring uncommitted changes in ${git.dirtyFiles.join(", ")}`);

  log("building the Worker (wrangler deploy --dry-run)");
  const bundle = await buildWorkerBundle(PROJECT_ROOT);
  log(`bundle: ${bundle.bytes} bytes, ${bundle.gzipBytes} bytes gzip`);

  log("generating keys (jose, WebCrypto)");
  const signingKeys = await newSigningKeySet("ES256");
  const clientKeys = {} as Record<ClientAlgorithm, ClientKeyPair>;
  for (const alg of ALGORITHMS) clientKeys[alg] = await newClientKeyPair(alg);
  const bigClientKeys: ClientKeyPair[] = [];
  for (let i = 0; i < KEYS_PER_BIG_CLIENT; i++) bigClientKeys.push(await newClientKeyPair("ES256"));

  const spreadPrefix = "bench-registered-";
  const runtime = await startBenchRuntime({
    bundle,
    projectRoot: PROJECT_ROOT,
    compatibilityDate: compatibilityDate(),
    issuer: ISSUER,
    signingKeys: JSON.stringify(signingKeys),
    clientPublicKeys: Object.fromEntries(ALGORITHMS.map((alg) => [alg, clientKeys[alg].publicJwk])),
    floorClientKey: "client:bench-floor",
    spreadClientPrefix: spreadPrefix,
  });
  try {
    const workerdPids = workerdProcessIds();
    if (workerdPids.length === 0) throw new Error("no workerd process found under this process");
    const bench: Bench = { runtime, workerdPids };
    log(`workerd pid(s): ${workerdPids.join(", ")}`);

    for (const alg of ALGORITHMS) await registerClient(bench, `bench-${alg}`, [clientKeys[alg]]);
    await registerClient(bench, "bench-floor", [clientKeys.ES256]);

    // Warm-up: JIT, key imports, isolate caches; also measures the rate that sizes the assertion pools.
    log("warm-up");
    const cryptoBodies = Object.fromEntries(
      await Promise.all(ALGORITHMS.map(async (alg) => [alg, repeatingBodies([await tokenRequestBody(tokenSpec(`bench-${alg}`, clientKeys[alg])())])])),
    ) as Record<ClientAlgorithm, RequestBodySource>;
    const floorBodies = repeatingBodies([await tokenRequestBody(tokenSpec("bench-floor", clientKeys.ES256)())]);
    const expectedRate = {} as Record<ClientAlgorithm, number>;
    await load(bench, "warm-up floor", runtime.urls.floor, 10, 1, floorBodies);
    for (const alg of ALGORITHMS) {
      await load(bench, `warm-up crypto ${alg}`, new URL(`/verify-and-sign/${alg}`, runtime.urls.cryptoBound), 10, 1, cryptoBodies[alg]);
      const warm = await loadTokenService(bench, `warm-up endpoint ${alg}`, "standard", 10, 1, 1500, tokenSpec(`bench-${alg}`, clientKeys[alg]));
      expectedRate[alg] = Math.max(warm.requestsPerSecond, 200);
    }
    await loadTokenService(bench, "warm-up endpoint no cache", "noClientCache", 10, 1, 1500, tokenSpec("bench-ES256", clientKeys.ES256));

    // Main runs, concurrency outermost so the rows compared with each other ran close together in time.
    const runs: TaggedRun[] = [];
    const tag = (target: Target, result: LoadRunResult, alg?: string) => runs.push({ ...result, target, ...(alg ? { alg } : {}) });
    for (const connections of CONCURRENCY) {
      tag("platform-floor", await load(bench, "platform floor", runtime.urls.floor, connections, DURATION, floorBodies));
      tag("http-only", await load(bench, "http only", new URL("/http-only", runtime.urls.cryptoBound), connections, DURATION, floorBodies));
      for (const alg of ALGORITHMS) {
        const url = new URL(`/verify-and-sign/${alg}`, runtime.urls.cryptoBound);
        tag("crypto-bound", await load(bench, `crypto bound ${alg}`, url, connections, DURATION, cryptoBodies[alg]), alg);
      }
      for (const alg of ALGORITHMS) {
        const result = await loadTokenService(bench, `endpoint ${alg}`, "standard", connections, DURATION, expectedRate[alg], tokenSpec(`bench-${alg}`, clientKeys[alg]));
        tag("endpoint", result, alg);
      }
      if (connections === SCALING_CONCURRENCY) {
        const result = await loadTokenService(bench, "endpoint ES256 no client cache", "noClientCache", connections, DURATION, expectedRate.ES256, tokenSpec("bench-ES256", clientKeys.ES256));
        tag("endpoint-no-client-cache", result, "ES256");
      }
    }

    log("scaling runs");
    const scalingRuns: MeasuredRow[] = [];
    await scaleWithinOneClient(bench, clientKeys.ES256, bigClientKeys, expectedRate.ES256, scalingRuns);

    // Storage bound: a load run against the short-window variant, then the alarm purge is awaited (never triggered
    // by hand) while the 10,000 clients of the next rows are registered; no timed run overlaps the wait.
    log(`storage bound: load with ASSERTION_MAX_LIFETIME=${SHORT_WINDOW_LIFETIME}, CLOCK_SKEW=0`);
    await registerClient(bench, "bench-storage", [clientKeys.ES256]);
    const storagePool = await RequestBodyPool.build(
      poolSizeFor(expectedRate.ES256, SCALING_DURATION),
      tokenSpec("bench-storage", clientKeys.ES256, { lifetime: SHORT_WINDOW_LIFETIME }),
    );
    // Every assertion in the pool expires at most SHORT_WINDOW_LIFETIME after the pool was built.
    const windowClosesAt = Date.now() + SHORT_WINDOW_LIFETIME * 1000;
    const storageRun = await load(bench, "storage bound", runtime.urls.token.shortWindow, SCALING_CONCURRENCY, SCALING_DURATION, storagePool);
    const storageGuard = await runtime.replayGuard("shortWindow", "bench-storage");
    const purge = awaitPurge(storageRun, windowClosesAt, () => storageGuard.benchRowCount());
    const registeredKeys = await registerManyClients(bench, spreadPrefix);
    const storageBound = await purge;

    await scaleAcrossClients(bench, clientKeys.ES256, registeredKeys, expectedRate.ES256, spreadPrefix, scalingRuns);
    const baseline = scalingRuns[0]!.run;
    const scaling: ScalingRow[] = scalingRuns.map((m) => ({
      ...m,
      throughputRatio: m.run.requestsPerSecond / baseline.requestsPerSecond,
      cpuRatio: m.run.workerdCpuMsPerRequest / baseline.workerdCpuMsPerRequest,
    }));

    const results: BenchResults = {
      date: new Date().toISOString().slice(0, 10),
      git,
      machine,
      settings: { durationSeconds: DURATION, scalingDurationSeconds: SCALING_DURATION, accessTokenAlg: "ES256" },
      bundle: { bytes: bundle.bytes, gzipBytes: bundle.gzipBytes, wranglerSummary: bundle.wranglerSummary },
      runs,
      scaling,
      storageBound,
      targets: checkTargets(runs, scaling, storageBound, bundle.gzipBytes, ALGORITHMS),
    };
    const path = await writeResults(PROJECT_ROOT, results);
    if (runtime.runtimeOutput.lastErrors.some((line) => line.trim() !== "")) {
      log(`workerd stderr (last lines):\n${runtime.runtimeOutput.lastErrors.join("\n")}`);
    }
    log(`results written to ${path}`);
    process.stdout.write(summaryMarkdown(results) + "\n");
  } finally {
    await runtime.dispose();
    await rm(bundle.directory, { recursive: true, force: true });
  }
}

type MeasuredRow = Omit<ScalingRow, "throughputRatio" | "cpuRatio">;

/** Assertions for one client signed by `signer`: with kid and the main-run lifetime unless told otherwise. */
const tokenSpec = (clientId: string, signer: ClientKeyPair, options: { withKid?: boolean; lifetime?: number } = {}) =>
  (): AssertionSpec => ({ clientId, key: signer, issuer: ISSUER, lifetime: options.lifetime ?? ASSERTION_LIFETIME, withKid: options.withKid ?? true });

async function scalingRow(bench: Bench, rows: MeasuredRow[], name: string, expectedRate: number, spec: (i: number) => AssertionSpec, note = "") {
  const run = await loadTokenService(bench, `scaling: ${name}`, "standard", SCALING_CONCURRENCY, SCALING_DURATION, expectedRate, spec);
  rows.push({ name, note, run, judged: true });
}

/** Rows that change one client's keys or replay store; each uses a fresh client so its Durable Object starts alike. */
async function scaleWithinOneClient(
  bench: Bench,
  key: ClientKeyPair,
  bigClientKeys: readonly ClientKeyPair[],
  rate: number,
  rows: MeasuredRow[],
) {
  await registerClient(bench, "scale-baseline", [key]);
  await scalingRow(bench, rows, "baseline: 1 key, assertion with kid, empty replay store", rate, tokenSpec("scale-baseline", key));

  await registerClient(bench, "scale-20-keys-kid", bigClientKeys);
  const lastKey = bigClientKeys[bigClientKeys.length - 1]!;
  await scalingRow(bench, rows, `${KEYS_PER_BIG_CLIENT} keys, assertion with kid (signer is the last key)`, rate, tokenSpec("scale-20-keys-kid", lastKey), "one verification");

  await registerClient(bench, "scale-1-key-no-kid", [key], false);
  await scalingRow(bench, rows, "1 key, assertion without kid", rate, tokenSpec("scale-1-key-no-kid", key, { withKid: false }));

  await registerClient(bench, "scale-20-keys-no-kid", bigClientKeys, false);
  const lastTried = bigClientKeys[KEYS_TRIED_WITHOUT_KID - 1]!;
  await scalingRow(
    bench,
    rows,
    `${KEYS_PER_BIG_CLIENT} keys, assertion without kid (signer is key ${KEYS_TRIED_WITHOUT_KID}, the last one tried)`,
    rate,
    tokenSpec("scale-20-keys-no-kid", lastTried, { withKid: false }),
    `${KEYS_TRIED_WITHOUT_KID} verifications: ${KEYS_TRIED_WITHOUT_KID - 1} fail, the last succeeds`,
  );

  await registerClient(bench, "scale-prefilled", [key]);
  const guard = await bench.runtime.replayGuard("standard", "scale-prefilled");
  const started = performance.now();
  const count = await guard.benchPrefill("prefilled-", PREFILLED_JTIS, Date.now() + 3_600_000);
  log(`pre-filled ${count} live jtis in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await scalingRow(bench, rows, `replay store holding ${PREFILLED_JTIS.toLocaleString("en")} live jtis`, rate, tokenSpec("scale-prefilled", key));
}

/** Registers REGISTERED_CLIENTS clients, each with its own ES256 key, and returns the keys (client i has key i). */
async function registerManyClients(bench: Bench, prefix: string): Promise<ClientKeyPair[]> {
  log(`registering ${REGISTERED_CLIENTS} clients, each with its own key`);
  const started = performance.now();
  const keys: ClientKeyPair[] = [];
  for (let i = 0; i < REGISTERED_CLIENTS; i++) keys.push(await newClientKeyPair("ES256"));
  for (let i = 0; i < REGISTERED_CLIENTS; i += 500) {
    await bench.runtime.clients.putAll(keys.slice(i, i + 500).map((k, j) => recordEntry(`${prefix}${i + j}`, [k])));
  }
  log(`registered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return keys;
}

/** Rows with many registered clients: traffic from one of them, then traffic spread over all (informational). */
async function scaleAcrossClients(
  bench: Bench,
  key: ClientKeyPair,
  registeredKeys: readonly ClientKeyPair[],
  rate: number,
  prefix: string,
  rows: MeasuredRow[],
) {
  const clients = registeredKeys.length.toLocaleString("en");
  await registerClient(bench, "scale-registry-10k", [key]);
  await scalingRow(bench, rows, `${clients} registered clients, traffic from one`, rate, tokenSpec("scale-registry-10k", key));

  // Every request from another client: KV read, record validation, key import and a new Durable Object each time.
  const spread = await loadTokenService(bench, "scaling: spread", "standard", SCALING_CONCURRENCY, SCALING_DURATION, rate, (i) => ({
    clientId: `${prefix}${i % registeredKeys.length}`,
    key: registeredKeys[i % registeredKeys.length]!,
    issuer: ISSUER,
    lifetime: ASSERTION_LIFETIME,
  }));
  rows.push({ name: `traffic spread over ${clients} clients (each request a cold client)`, note: "cold path", run: spread, judged: false });
  const floorUrl = new URL(`?spread=${registeredKeys.length}`, bench.runtime.urls.floor);
  const floorSpread = await load(bench, "scaling: floor spread", floorUrl, SCALING_CONCURRENCY, SCALING_DURATION, repeatingBodies(["grant_type=client_credentials"]));
  rows.push({ name: `platform floor spread over ${clients} clients`, note: "a record among N and a new Durable Object per request", run: floorSpread, judged: false });

  await registerClient(bench, "scale-baseline-repeat", [key]);
  await scalingRow(bench, rows, "baseline again (noise check)", rate, tokenSpec("scale-baseline-repeat", key));
}

/** Counts replay rows after the load run, then every 500 ms until zero or a deadline well past the window. */
async function awaitPurge(run: LoadRunResult, windowClosesAt: number, countRows: () => Promise<number>): Promise<StorageBound> {
  const deadline = windowClosesAt + (PURGE_BATCH_DELAY_SECONDS * 3 + 30) * 1000;
  const rowsAfterLoad = await countRows();
  log(`storage bound: ${rowsAfterLoad} rows after the run; waiting for the alarm purge`);
  let rows = rowsAfterLoad;
  while (rows > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    rows = await countRows();
  }
  log(`storage bound: ${rows} rows`);
  return {
    run,
    assertionLifetimeSeconds: SHORT_WINDOW_LIFETIME,
    rowsAfterLoad,
    rowsAtEnd: rows,
    secondsPastWindowUntilEmpty: rows === 0 ? (Date.now() - windowClosesAt) / 1000 : null,
  };
}

await main();
