// One timed load run: autocannon POSTs pre-built form bodies to a URL at a fixed concurrency, while the OS's CPU
// accounting of the workerd processes is read before and after. Builds no assertion and signs nothing while timing.
import autocannon from "autocannon";
import type { PooledRequest } from "./client-fixtures";
import { cpuSecondsOf } from "./process-cpu";

export interface RequestBodySource {
  take(): PooledRequest | undefined;
  readonly remaining: number;
}

export interface LoadRunSpec {
  label: string;
  url: string;
  connections: number;
  durationSeconds: number;
  bodies: RequestBodySource;
  /** workerd processes whose CPU time is charged to this run. */
  workerdPids: readonly number[];
}

export interface LoadRunResult {
  label: string;
  connections: number;
  /** Wall time of the run in seconds (shorter than asked when the body pool ran low). */
  seconds: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requestsPerSecond: number;
  /** autocannon latency in ms: the percentiles have 1 ms resolution, the mean is exact. */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** CPU seconds (user + system) of workerd over the run. */
  workerdCpuSeconds: number;
  /** workerdCpuSeconds divided by completed requests, in ms. */
  workerdCpuMsPerRequest: number;
  /** Share of one core the workerd processes used during the run. */
  workerdCpuCores: number;
  /** Share of one core the load generator (this Node process) used: near 1 means the client was the bottleneck. */
  loadGeneratorCpuCores: number;
  poolRanLow: boolean;
  /** For a result merged from several rounds: each round's req/s and CPU ms per request. */
  rounds?: Array<{ requestsPerSecond: number; workerdCpuMsPerRequest: number }>;
}

export async function runLoad(spec: LoadRunSpec): Promise<LoadRunResult> {
  let poolRanLow = false;
  let fallback: PooledRequest = "";
  let taken = 0;
  const started = performance.now();
  const cpuBefore = cpuSecondsOf(spec.workerdPids);
  const generatorBefore = process.cpuUsage();

  let instance: ReturnType<typeof autocannon> | undefined;
  instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationSeconds,
    timeout: 10,
    // autocannon acts on stop() at its next sample: sample often so an early stop takes effect within 100 ms.
    sampleInt: 100,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        setupRequest: (request) => {
          // Stop early rather than reuse a body: a reused assertion is a replay and would be refused. Keep enough
          // bodies for the requests sent before the stop takes effect (half a second at the rate so far).
          taken += 1;
          const rate = taken / Math.max((performance.now() - started) / 1000, 0.1);
          if (!poolRanLow && spec.bodies.remaining <= spec.connections * 2 + rate / 2) {
            poolRanLow = true;
            instance?.stop();
          }
          const next = spec.bodies.take() ?? fallback;
          fallback = next;
          if (typeof next === "string") return { ...request, body: next };
          return { ...request, body: next.body, headers: { ...request.headers, ...next.headers } };
        },
      },
    ],
  });
  if (poolRanLow) instance.stop();
  const result = await instance;

  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsOf(spec.workerdPids) - cpuBefore;
  const generator = process.cpuUsage(generatorBefore);
  const requests = result["2xx"] + result.non2xx;
  return {
    label: spec.label,
    connections: spec.connections,
    seconds: round(seconds, 2),
    requests,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requestsPerSecond: round(requests / seconds, 0),
    latencyMs: {
      mean: round(result.latency.mean, 2),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    workerdCpuSeconds: round(cpuSeconds, 3),
    workerdCpuMsPerRequest: requests > 0 ? round((cpuSeconds * 1000) / requests, 3) : 0,
    workerdCpuCores: round(cpuSeconds / seconds, 2),
    loadGeneratorCpuCores: round((generator.user + generator.system) / 1e6 / seconds, 2),
    poolRanLow,
  };
}

/**
 * One result from several rounds of the same run: counts, time and CPU are summed; the latency percentiles are the
 * request-weighted mean of each round's (autocannon reports percentiles, not samples); max is the largest.
 */
export function mergeRounds(rounds: readonly LoadRunResult[]): LoadRunResult {
  const first = rounds[0];
  if (!first) throw new Error("no rounds to merge");
  const sum = (pick: (r: LoadRunResult) => number) => rounds.reduce((total, r) => total + pick(r), 0);
  const requests = sum((r) => r.requests);
  const seconds = sum((r) => r.seconds);
  const cpuSeconds = sum((r) => r.workerdCpuSeconds);
  const weighted = (pick: (r: LoadRunResult) => number) =>
    round(requests > 0 ? sum((r) => pick(r) * r.requests) / requests : 0, 2);
  return {
    label: first.label,
    connections: first.connections,
    seconds: round(seconds, 2),
    requests,
    ok: sum((r) => r.ok),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    requestsPerSecond: round(requests / seconds, 0),
    latencyMs: {
      mean: weighted((r) => r.latencyMs.mean),
      p50: weighted((r) => r.latencyMs.p50),
      p90: weighted((r) => r.latencyMs.p90),
      p99: weighted((r) => r.latencyMs.p99),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
    workerdCpuSeconds: round(cpuSeconds, 3),
    workerdCpuMsPerRequest: requests > 0 ? round((cpuSeconds * 1000) / requests, 3) : 0,
    workerdCpuCores: round(cpuSeconds / seconds, 2),
    loadGeneratorCpuCores: weighted((r) => r.loadGeneratorCpuCores),
    poolRanLow: rounds.some((r) => r.poolRanLow),
    rounds: rounds.map((r) => ({
      requestsPerSecond: r.requestsPerSecond,
      workerdCpuMsPerRequest: r.workerdCpuMsPerRequest,
    })),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A body source that repeats one body forever, for routes that spend nothing (crypto bound, floor). */
export function repeatingBodies(bodies: readonly string[]): RequestBodySource {
  let next = 0;
  return {
    take: () => bodies[next++ % bodies.length],
    remaining: Number.POSITIVE_INFINITY,
  };
}
