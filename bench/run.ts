// `npm run bench`: builds the Worker, runs it in workerd through Miniflare next to the platform-floor and crypto-bound
// reference Workers, drives them with autocannon, and writes bench/results/<date>.json plus a markdown summary.
// Options: --duration <s> per main row (default 3), --scaling-duration <s> per scaling row (default 3), --ref <git
// commit> (measure that commit's Worker instead of the working tree). Local loopback traffic only.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { importJWK } from "jose";
import { newSigningKeySet } from "../scripts/lib/signing-keys";
import {
  type BenchResults,
  checkTargets,
  type DpopComparison,
  type IssuedTokenCosts,
  type IssuedTokenSide,
  type ScalingRow,
  type StorageBound,
  summaryMarkdown,
  type TaggedRun,
  type Target,
  writeResults,
} from "./lib/bench-report";
import { type BenchRuntime, type Registry, startBenchRuntime, type TokenServiceVariant } from "./lib/bench-runtime";
import {
  type AssertionSpec,
  accessTokenFor,
  type ClientAlgorithm,
  type ClientKeyPair,
  clientRecord,
  newClientKeyPair,
  newDpopKeyPair,
  RequestBodyPool,
  tokenRequestBody,
  tokenStatusRequestBody,
} from "./lib/client-fixtures";
import { type LoadRunResult, mergeRounds, type RequestBodySource, repeatingBodies, runLoad } from "./lib/load-run";
import { describeMachine, workerdProcessIds } from "./lib/process-cpu";
import { buildWorkerBundle } from "./lib/worker-bundle";

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
/**
 * A loopback issuer: the load runs reach workerd's direct sockets over plain http, which the service refuses for an
 * https issuer (in production Cloudflare's edge terminates TLS and the Worker sees https).
 */
const ISSUER = "http://localhost:8787";
const ALGORITHMS: readonly ClientAlgorithm[] = ["ES256", "PS256", "RS256"];
const CONCURRENCY = [1, 10, 50] as const;
const SCALING_CONCURRENCY = 10;
/** Each row runs in this many short rounds, interleaved with the rows it is compared with, so drift hits all alike. */
const MAIN_ROUNDS = 2;
const SCALING_ROUNDS = 3;
/** Assertion lifetime for the timed runs: within ASSERTION_MAX_LIFETIME (300) with room for a slow machine. */
const ASSERTION_LIFETIME = 240;
/** The short-window variant's ASSERTION_MAX_LIFETIME (bench-runtime.ts), used by the storage-bound run. */
const SHORT_WINDOW_LIFETIME = 10;
/** ClientAuthority purges this long after the earliest expiry (PURGE_BATCH_DELAY_MS in src/client-authority/authority.ts). */
const PURGE_BATCH_DELAY_SECONDS = 5;
const REGISTERED_CLIENTS = 10_000;
const PREFILLED_JTIS = 100_000;
const KEYS_PER_BIG_CLIENT = 20;
/** Without `kid` the service tries at most this many fitting keys (LIMITS.maxKeysTriedPerRequest). */
const KEYS_TRIED_WITHOUT_KID = 4;
const SPREAD_PREFIX = "bench-registered-";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    "scaling-duration": { type: "string", default: "3" },
    ref: { type: "string" },
  },
});
const DURATION = Number(args.duration);
const SCALING_DURATION = Number(args["scaling-duration"]);

function log(message: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The commit measured, and the Worker files that differ from it when the working tree is measured. */
function gitState(ref: string | undefined): { commit: string; dirtyFiles: string[] } {
  const git = (...argv: string[]) => execFileSync("git", argv, { cwd: PROJECT_ROOT, encoding: "utf8" }).trim();
  try {
    if (ref !== undefined) return { commit: git("rev-parse", `${ref}^{commit}`), dirtyFiles: [] };
    const dirty = git("status", "--porcelain", "--", "src", "wrangler.toml", "package.json");
    return {
      commit: git("rev-parse", "HEAD"),
      dirtyFiles: dirty ? dirty.split("\n").map((l) => l.replace(/^\s*\S+\s+/, "")) : [],
    };
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

interface Bench {
  runtime: BenchRuntime;
  workerdPids: number[];
  /** Fastest token-service rate seen so far (req/s): sizes the assertion pools so runs end by time, not by pool. */
  fastestTokenRate: number;
}

/** A run to repeat in rounds: where to send, how hard, and a fresh body source per round. */
interface PlannedRun {
  label: string;
  url: URL;
  connections: number;
  bodies: (seconds: number) => Promise<RequestBodySource>;
}

async function load(
  bench: Bench,
  label: string,
  url: URL,
  connections: number,
  seconds: number,
  bodies: RequestBodySource,
) {
  const result = await runLoad({
    label,
    url: url.href,
    connections,
    durationSeconds: seconds,
    bodies,
    workerdPids: bench.workerdPids,
  });
  log(
    `${label} c=${connections}: ${result.requestsPerSecond} req/s, p99 ${result.latencyMs.p99} ms, ` +
      `${result.workerdCpuMsPerRequest} ms CPU/req, non-2xx ${result.non2xx}, errors ${result.errors}` +
      (result.poolRanLow ? " (pool ran low: stopped early)" : ""),
  );
  return result;
}

/** Runs every plan once per round, in order, and merges each plan's rounds into one result. */
async function runInRounds(bench: Bench, plans: readonly PlannedRun[], rounds: number, seconds: number) {
  const perPlan: LoadRunResult[][] = plans.map(() => []);
  for (let round = 1; round <= rounds; round++) {
    for (const [index, plan] of plans.entries()) {
      const result = await load(
        bench,
        `${plan.label} [${round}/${rounds}]`,
        plan.url,
        plan.connections,
        seconds / rounds,
        await plan.bodies(seconds / rounds),
      );
      perPlan[index]!.push(result);
    }
  }
  return perPlan.map(mergeRounds);
}

/** Bodies for the token service: a pool of unique assertions, built before the run, sized by the fastest rate seen. */
function tokenBodies(bench: Bench, assertionFor: (index: number) => AssertionSpec) {
  let issued = 0;
  return async (seconds: number) => {
    const size = Math.ceil(bench.fastestTokenRate * 1.5 * seconds) + 200;
    const offset = issued;
    issued += size;
    return RequestBodyPool.build(size, (i) => assertionFor(offset + i));
  };
}

/** Assertions for one client signed by `signer`: with kid and the timed-run lifetime unless told otherwise. */
const tokenSpec =
  (clientId: string, signer: ClientKeyPair, options: { withKid?: boolean; lifetime?: number } = {}) =>
  (): AssertionSpec => ({
    clientId,
    key: signer,
    issuer: ISSUER,
    lifetime: options.lifetime ?? ASSERTION_LIFETIME,
    withKid: options.withKid ?? true,
  });

function recordEntry(clientId: string, keys: readonly ClientKeyPair[], withKids = true): [string, string] {
  const jwks = keys.map((k) => {
    if (withKids) return k.publicJwk;
    const { kid: _kid, ...rest } = k.publicJwk;
    return rest;
  });
  return [`client:${clientId}`, JSON.stringify(clientRecord(clientId, jwks))];
}

async function registerClient(
  bench: Bench,
  clientId: string,
  keys: readonly ClientKeyPair[],
  options: { withKids?: boolean; registry?: Registry } = {},
) {
  await bench.runtime.clients.putAll([recordEntry(clientId, keys, options.withKids ?? true)], options.registry);
}

async function main() {
  const machine = describeMachine();
  const git = gitState(args.ref);
  log(`machine: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}`);
  if (git.dirtyFiles.length > 0) log(`note: measuring uncommitted changes in ${git.dirtyFiles.join(", ")}`);

  log(
    `building the Worker of ${args.ref === undefined ? "the working tree" : `commit ${git.commit}`} (wrangler deploy --dry-run)`,
  );
  const bundle = await buildWorkerBundle(PROJECT_ROOT, args.ref === undefined ? undefined : git.commit);
  log(`bundle: ${bundle.bytes} bytes, ${bundle.gzipBytes} bytes gzip`);

  log("generating keys (jose, WebCrypto)");
  const signingKeys = await newSigningKeySet("ES256");
  const clientKeys = {} as Record<ClientAlgorithm, ClientKeyPair>;
  for (const alg of ALGORITHMS) clientKeys[alg] = await newClientKeyPair(alg);

  const runtime = await startBenchRuntime({
    bundle,
    projectRoot: PROJECT_ROOT,
    compatibilityDate: compatibilityDate(),
    issuer: ISSUER,
    signingKeys: JSON.stringify(signingKeys),
    clientPublicKeys: Object.fromEntries(ALGORITHMS.map((alg) => [alg, clientKeys[alg].publicJwk])),
    floorClientKey: "client:bench-floor",
    spreadClientPrefix: SPREAD_PREFIX,
  });
  try {
    const workerdPids = workerdProcessIds();
    if (workerdPids.length === 0) throw new Error("no workerd process found under this process");
    const bench: Bench = { runtime, workerdPids, fastestTokenRate: 1000 };
    log(`workerd pid(s): ${workerdPids.join(", ")}`);

    for (const alg of ALGORITHMS) await registerClient(bench, `bench-${alg}`, [clientKeys[alg]]);
    await registerClient(bench, "bench-floor", [clientKeys.ES256]);
    const runs = await mainRuns(bench, clientKeys);
    const dpop = await dpopRuns(bench, clientKeys.ES256);
    const issuedTokens = await issuedTokenRuns(bench, clientKeys.ES256, signingKeys);

    // Storage bound: a load run against the short-window variant, then the alarm purge is awaited (never triggered
    // by hand) while the 10,000 clients of the scaling rows are registered; no timed run overlaps the wait.
    log(`storage bound: load with ASSERTION_MAX_LIFETIME=${SHORT_WINDOW_LIFETIME}, CLOCK_SKEW=0`);
    await registerClient(bench, "bench-storage", [clientKeys.ES256]);
    const storagePool = await tokenBodies(
      bench,
      tokenSpec("bench-storage", clientKeys.ES256, { lifetime: SHORT_WINDOW_LIFETIME }),
    )(2);
    // Every assertion in the pool expires at most SHORT_WINDOW_LIFETIME after the pool was built.
    const windowClosesAt = Date.now() + SHORT_WINDOW_LIFETIME * 1000;
    const storageRun = await load(
      bench,
      "storage bound",
      runtime.urls.token.shortWindow,
      SCALING_CONCURRENCY,
      2,
      storagePool,
    );
    const storageGuard = await runtime.replayGuard("shortWindow", "bench-storage");
    const purge = awaitPurge(storageRun, windowClosesAt, () => storageGuard.benchRowCount());
    const registeredKeys = await registerManyClients(bench);
    const storageBound = await purge;

    const scaling = await scalingRuns(bench, clientKeys.ES256, registeredKeys);

    const results: BenchResults = {
      date: new Date().toISOString().slice(0, 10),
      git,
      machine,
      settings: { durationSeconds: DURATION, scalingDurationSeconds: SCALING_DURATION, accessTokenAlg: "ES256" },
      bundle: { bytes: bundle.bytes, gzipBytes: bundle.gzipBytes, wranglerSummary: bundle.wranglerSummary },
      runs,
      scaling,
      storageBound,
      dpop,
      issuedTokens,
      targets: checkTargets(runs, scaling, storageBound, bundle.gzipBytes, ALGORITHMS, dpop),
    };
    const path = await writeResults(PROJECT_ROOT, results);
    if (runtime.runtimeOutput.lastErrors.some((line) => line.trim() !== "")) {
      log(`workerd stderr (last lines):\n${runtime.runtimeOutput.lastErrors.join("\n")}`);
    }
    log(`results written to ${path}`);
    process.stdout.write(`${summaryMarkdown(results)}\n`);
  } finally {
    await runtime.dispose();
    await rm(bundle.directory, { recursive: true, force: true });
  }
}

/** Warm-up, then per concurrency: floor, HTTP only, crypto bound and endpoint for each key type, in rounds. */
async function mainRuns(bench: Bench, clientKeys: Record<ClientAlgorithm, ClientKeyPair>): Promise<TaggedRun[]> {
  const { urls } = bench.runtime;
  const cryptoBodies = {} as Record<ClientAlgorithm, RequestBodySource>;
  for (const alg of ALGORITHMS)
    cryptoBodies[alg] = repeatingBodies([await tokenRequestBody(tokenSpec(`bench-${alg}`, clientKeys[alg])())]);
  const floorBodies = repeatingBodies([await tokenRequestBody(tokenSpec("bench-floor", clientKeys.ES256)())]);

  const plans: Array<PlannedRun & { target: Target; alg?: ClientAlgorithm }> = [
    {
      target: "platform-floor",
      label: "platform floor",
      url: urls.floor,
      connections: 0,
      bodies: async () => floorBodies,
    },
    {
      target: "http-only",
      label: "http only",
      url: new URL("/http-only", urls.cryptoBound),
      connections: 0,
      bodies: async () => floorBodies,
    },
    ...ALGORITHMS.map((alg) => ({
      target: "crypto-bound" as const,
      alg,
      label: `crypto bound ${alg}`,
      url: new URL(`/verify-and-sign/${alg}`, urls.cryptoBound),
      connections: 0,
      bodies: async () => cryptoBodies[alg],
    })),
    ...ALGORITHMS.map((alg) => ({
      target: "endpoint" as const,
      alg,
      label: `endpoint ${alg}`,
      url: urls.token.standard,
      connections: 0,
      bodies: tokenBodies(bench, tokenSpec(`bench-${alg}`, clientKeys[alg])),
    })),
  ];
  const noCache = {
    target: "endpoint-no-client-cache" as const,
    alg: "ES256" as const,
    label: "endpoint ES256 CLIENT_CACHE_TTL=0",
    url: urls.token.noClientCache,
    connections: SCALING_CONCURRENCY,
    bodies: tokenBodies(bench, tokenSpec("bench-ES256", clientKeys.ES256)),
  };

  // Warm-up: JIT, key imports, isolate caches; also the first estimate of the token service's rate.
  log("warm-up");
  for (const plan of [...plans, noCache]) {
    const result = await load(bench, `warm-up ${plan.label}`, plan.url, 10, 1, await plan.bodies(1));
    if (plan.target.startsWith("endpoint"))
      bench.fastestTokenRate = Math.max(bench.fastestTokenRate, result.requestsPerSecond);
  }

  const runs: TaggedRun[] = [];
  for (const connections of CONCURRENCY) {
    const atConcurrency = [...plans, ...(connections === SCALING_CONCURRENCY ? [noCache] : [])].map((p) => ({
      ...p,
      connections,
    }));
    const merged = await runInRounds(bench, atConcurrency, MAIN_ROUNDS, DURATION);
    for (const [index, plan] of atConcurrency.entries()) {
      const result = merged[index]!;
      if (plan.target.startsWith("endpoint"))
        bench.fastestTokenRate = Math.max(bench.fastestTokenRate, result.requestsPerSecond);
      runs.push({ ...result, target: plan.target, ...(plan.alg ? { alg: plan.alg } : {}) });
    }
  }
  return runs;
}

/**
 * Bearer against DPoP-bound tokens for two clients alike (ES256 key, ES256 proof key), interleaved in rounds at c=10,
 * and the SQLite rows each client's authority wrote per token issued (counted after a warm-up, which adopts the
 * records and imports the keys).
 */
async function dpopRuns(bench: Bench, key: ClientKeyPair): Promise<DpopComparison> {
  log("DPoP runs");
  const proofKey = await newDpopKeyPair();
  const htu = new URL("/token", ISSUER).href;
  await registerClient(bench, "bench-bearer", [key]);
  await registerClient(bench, "bench-dpop", [key]);
  const { urls } = bench.runtime;
  const c = SCALING_CONCURRENCY;
  const reference = repeatingBodies([await tokenRequestBody(tokenSpec("bench-ES256", key)())]);
  const plans: PlannedRun[] = [
    {
      label: "Bearer ES256",
      url: urls.token.standard,
      connections: c,
      bodies: tokenBodies(bench, tokenSpec("bench-bearer", key)),
    },
    {
      label: "DPoP-bound ES256 (proof ES256)",
      url: urls.token.standard,
      connections: c,
      bodies: tokenBodies(bench, () => ({ ...tokenSpec("bench-dpop", key)(), dpop: { key: proofKey, htu } })),
    },
    {
      label: "one ES256 verification",
      url: new URL("/verify/ES256", urls.cryptoBound),
      connections: c,
      bodies: async () => reference,
    },
    { label: "http only", url: new URL("/http-only", urls.cryptoBound), connections: c, bodies: async () => reference },
  ];
  for (const plan of plans) await load(bench, `warm-up ${plan.label}`, plan.url, c, 1, await plan.bodies(1));
  const authorities = await Promise.all(
    ["bench-bearer", "bench-dpop"].map((id) => bench.runtime.replayGuard("standard", id)),
  );
  for (const authority of authorities) await authority.benchCountRows();
  const [bearer, dpop, verifyOnly, httpOnly] = await runInRounds(bench, plans, MAIN_ROUNDS, DURATION);
  const [bearerRows, dpopRows] = await Promise.all(authorities.map((authority) => authority.benchRowsWritten()));
  // Tokens the server issued: one assertion jti spent per token. (autocannon's count misses the requests still in
  // flight when a round stops, which the server did answer.)
  const side = (
    run: LoadRunResult,
    rows: { total: number; byStatement: Record<string, { rows: number; statements: number }> },
  ) => {
    const spends = Object.entries(rows.byStatement).find(([statement]) =>
      statement.startsWith("INSERT INTO spent_jti"),
    );
    const tokens = spends?.[1].statements ?? 0;
    const perToken = (count: number) => (tokens > 0 ? count / tokens : 0);
    return {
      run,
      tokens,
      rowsWritten: rows.total,
      rowsWrittenPerToken: perToken(rows.total),
      rowsPerTokenByStatement: Object.fromEntries(
        Object.entries(rows.byStatement).map(([statement, entry]) => [statement, perToken(entry.rows)]),
      ),
    };
  };
  log(`DPoP rows written: Bearer ${JSON.stringify(bearerRows)} for ${bearer!.ok} tokens`);
  log(`DPoP rows written: DPoP ${JSON.stringify(dpopRows)} for ${dpop!.ok} tokens`);
  return {
    bearer: side(bearer!, bearerRows!),
    dpop: side(dpop!, dpopRows!),
    verifyOnly: verifyOnly!,
    httpOnly: httpOnly!,
  };
}

/**
 * Revocation and introspection against the token endpoint, interleaved in rounds at c=10 with one ES256 client key:
 * each revocation revokes a distinct token of the caller's own, each introspection asks about a distinct token of
 * another client. Tokens are signed here with the service's own signing key (the claims issue-token.ts sets), so no
 * token request runs beside them. Counts the Durable Object calls and SQLite rows of both clients' authorities.
 */
async function issuedTokenRuns(
  bench: Bench,
  key: ClientKeyPair,
  signingKeys: { keys: Array<Record<string, unknown>> },
): Promise<IssuedTokenCosts> {
  log("revocation and introspection runs");
  const ids = { owner: "bench-token-owner", introspector: "bench-introspector", reference: "bench-issued-reference" };
  await registerClient(bench, ids.owner, [key]);
  await registerClient(bench, ids.reference, [key]);
  await bench.runtime.clients.putAll([
    [
      `client:${ids.introspector}`,
      JSON.stringify({ ...clientRecord(ids.introspector, [key.publicJwk]), introspection: true }),
    ],
  ]);
  const active = signingKeys.keys[0] as { kid: string; alg: string };
  const signer = { kid: active.kid, alg: active.alg, privateKey: (await importJWK(active, active.alg)) as CryptoKey };
  const owner = { ...key, clientId: ids.owner };
  const c = SCALING_CONCURRENCY;
  let made = 0;
  const statusBodies = (caller: string, path: string) => ({
    url: new URL(path, bench.runtime.urls.token.standard),
    bodies: async (seconds: number) => {
      const size = Math.ceil(bench.fastestTokenRate * 1.5 * seconds) + 200;
      made += size;
      return RequestBodyPool.of(size, async () =>
        tokenStatusRequestBody(tokenSpec(caller, key)(), await accessTokenFor(signer, ISSUER, owner, 600)),
      );
    },
  });
  const plans: PlannedRun[] = [
    {
      label: "token request ES256",
      url: bench.runtime.urls.token.standard,
      connections: c,
      bodies: tokenBodies(bench, tokenSpec(ids.reference, key)),
    },
    { label: "introspection", connections: c, ...statusBodies(ids.introspector, "/introspect") },
    { label: "revocation", connections: c, ...statusBodies(ids.owner, "/revoke") },
  ];
  for (const plan of plans) await load(bench, `warm-up ${plan.label}`, plan.url, c, 1, await plan.bodies(1));
  const authorities = await Promise.all(
    [ids.reference, ids.introspector, ids.owner].map((id) => bench.runtime.replayGuard("standard", id)),
  );
  for (const authority of authorities) await authority.benchCountRows();
  const [reference, introspection, revocation] = await runInRounds(bench, plans, MAIN_ROUNDS, DURATION);
  const calls = await Promise.all(authorities.map((authority) => authority.benchCalls()));
  const rows = await Promise.all(authorities.map((authority) => authority.benchRowsWritten()));
  const at = (i: number) => ({ calls: calls[i]!, rows: rows[i]! });
  const [referenceAt, introspectorAt, ownerAt] = [at(0), at(1), at(2)];
  log(`issued tokens: introspector ${JSON.stringify(introspectorAt)}`);
  log(`issued tokens: owner ${JSON.stringify(ownerAt)} (${made} bodies built)`);
  // Each endpoint's requests are counted by the calls its caller's authority got (consume), the count that the server
  // did answer, in-flight requests at the end of a round included.
  const side = (run: LoadRunResult, callers: number, objectCalls: number, rowsWritten: number): IssuedTokenSide => ({
    run,
    requests: callers,
    objectCallsPerRequest: callers > 0 ? objectCalls / callers : 0,
    rowsWrittenPerRequest: callers > 0 ? rowsWritten / callers : 0,
  });
  const introspectionCalls = introspectorAt.calls.consume + ownerAt.calls.tokenStatus;
  // The owner's object served both the revocation callers (consume, revokeToken) and the introspections' tokenStatus,
  // which writes nothing: every row it wrote is the revocations'.
  const revocationCalls = ownerAt.calls.consume + ownerAt.calls.revokeToken;
  return {
    reference: side(reference!, referenceAt.calls.consume, referenceAt.calls.consume, referenceAt.rows.total),
    introspection: side(introspection!, introspectorAt.calls.consume, introspectionCalls, introspectorAt.rows.total),
    revocation: side(revocation!, ownerAt.calls.consume, revocationCalls, ownerAt.rows.total),
    rowsByStatement: { introspector: introspectorAt.rows.byStatement, owner: ownerAt.rows.byStatement },
  };
}

/** Registers REGISTERED_CLIENTS clients in the "many" registry, each with its own ES256 key (client i has key i). */
async function registerManyClients(bench: Bench): Promise<ClientKeyPair[]> {
  log(`registering ${REGISTERED_CLIENTS} clients, each with its own key`);
  const started = performance.now();
  const keys: ClientKeyPair[] = [];
  for (let i = 0; i < REGISTERED_CLIENTS; i++) keys.push(await newClientKeyPair("ES256"));
  for (let i = 0; i < REGISTERED_CLIENTS; i += 500) {
    await bench.runtime.clients.putAll(
      keys.slice(i, i + 500).map((k, j) => recordEntry(`${SPREAD_PREFIX}${i + j}`, [k])),
      "many",
    );
  }
  log(`registered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return keys;
}

/**
 * The scaling rows, each against a fresh client so its Durable Object starts alike, interleaved in rounds with the
 * baseline. The last two rows (traffic spread over every registered client) are informational.
 */
async function scalingRuns(
  bench: Bench,
  key: ClientKeyPair,
  registeredKeys: readonly ClientKeyPair[],
): Promise<ScalingRow[]> {
  log("scaling runs");
  const bigClientKeys: ClientKeyPair[] = [];
  for (let i = 0; i < KEYS_PER_BIG_CLIENT; i++) bigClientKeys.push(await newClientKeyPair("ES256"));
  await registerClient(bench, "scale-baseline", [key]);
  await registerClient(bench, "scale-20-keys-kid", bigClientKeys);
  await registerClient(bench, "scale-1-key-no-kid", [key], { withKids: false });
  await registerClient(bench, "scale-20-keys-no-kid", bigClientKeys, { withKids: false });
  await registerClient(bench, "scale-prefilled", [key]);
  await registerClient(bench, "scale-many-clients", [key], { registry: "many" });
  const started = performance.now();
  const rows = await (await bench.runtime.replayGuard("standard", "scale-prefilled")).benchPrefill(
    "prefilled-",
    PREFILLED_JTIS,
    Date.now() + 3_600_000,
  );
  log(`pre-filled ${rows} live jtis in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const clients = REGISTERED_CLIENTS.toLocaleString("en");
  const { urls } = bench.runtime;
  const c = SCALING_CONCURRENCY;

  // The many-clients variant is an isolate of its own that no earlier run has warmed: warm it like the others.
  await registerClient(bench, "scale-warm-up", [key], { registry: "many" });
  await load(
    bench,
    "warm-up many-clients variant",
    urls.token.manyClients,
    c,
    1,
    await tokenBodies(bench, tokenSpec("scale-warm-up", key))(1),
  );
  const tokenRow = (
    name: string,
    clientId: string,
    signer: ClientKeyPair,
    options: { withKid?: boolean; variant?: TokenServiceVariant } = {},
  ) => ({
    name,
    judged: true,
    plan: {
      label: `scaling: ${name}`,
      url: urls.token[options.variant ?? "standard"],
      connections: c,
      bodies: tokenBodies(bench, tokenSpec(clientId, signer, options)),
    },
  });
  const lastTried = bigClientKeys[KEYS_TRIED_WITHOUT_KID - 1]!;
  const table = [
    tokenRow("baseline: 1 key, assertion with kid, empty replay store", "scale-baseline", key),
    tokenRow(
      `${KEYS_PER_BIG_CLIENT} keys, assertion with kid (signer is the last key)`,
      "scale-20-keys-kid",
      bigClientKeys[KEYS_PER_BIG_CLIENT - 1]!,
    ),
    tokenRow("1 key, assertion without kid", "scale-1-key-no-kid", key, { withKid: false }),
    tokenRow(
      `${KEYS_PER_BIG_CLIENT} keys, assertion without kid (signer is key ${KEYS_TRIED_WITHOUT_KID}, the last one tried)`,
      "scale-20-keys-no-kid",
      lastTried,
      { withKid: false },
    ),
    tokenRow(`replay store holding ${PREFILLED_JTIS.toLocaleString("en")} live jtis`, "scale-prefilled", key),
    tokenRow(`${clients} registered clients, traffic from one`, "scale-many-clients", key, { variant: "manyClients" }),
    {
      name: `traffic spread over ${clients} clients (each request a cold client)`,
      judged: false,
      plan: {
        label: "scaling: spread over registered clients",
        url: urls.token.manyClients,
        connections: c,
        bodies: tokenBodies(bench, (i) => ({
          clientId: `${SPREAD_PREFIX}${i % registeredKeys.length}`,
          key: registeredKeys[i % registeredKeys.length]!,
          issuer: ISSUER,
          lifetime: ASSERTION_LIFETIME,
        })),
      },
    },
    {
      name: `platform floor spread over ${clients} clients`,
      judged: false,
      plan: {
        label: "scaling: floor spread",
        url: new URL(`?spread=${registeredKeys.length}`, urls.floor),
        connections: c,
        bodies: async () => repeatingBodies(["grant_type=client_credentials"]),
      },
    },
  ];
  const merged = await runInRounds(
    bench,
    table.map((row) => row.plan),
    SCALING_ROUNDS,
    SCALING_DURATION,
  );
  const baseline = merged[0]!;
  return table.map((row, index) => {
    const run = merged[index]!;
    return {
      name: row.name,
      note: "",
      run,
      throughputRatio: run.requestsPerSecond / baseline.requestsPerSecond,
      cpuRatio: run.workerdCpuMsPerRequest / baseline.workerdCpuMsPerRequest,
      judged: row.judged,
    };
  });
}

/** Counts replay rows after the load run, then every 500 ms until zero or a deadline well past the window. */
async function awaitPurge(
  run: LoadRunResult,
  windowClosesAt: number,
  countRows: () => Promise<number>,
): Promise<StorageBound> {
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
