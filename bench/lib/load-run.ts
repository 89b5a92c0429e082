// One timed load run: autocannon POSTs pre-built form bodies to a URL at a fixed concurrency, while the OS's CPU
// accounting of the workerd processes is read before and after. Builds no assertion and signs nothing while timing.
import autocannon from "autocannon";
import { cpuSecondsOf } from "./process-cpu";

export interface RequestBodySource {
  take(): string | undefined;
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
  /** CPU seconds (user + system) of workerd over the run, divided by completed requests, in ms. */
  workerdCpuMsPerRequest: number;
  /** Share of one core the workerd processes used during the run. */
  workerdCpuCores: number;
  /** Share of one core the load generator (this Node process) used: near 1 means the client was the bottleneck. */
  loadGeneratorCpuCores: number;
  poolRanLow: boolean;
}

export async function runLoad(spec: LoadRunSpec): Promise<LoadRunResult> {
  let poolRanLow = false;
  let fallback = "";
  const started = performance.now();
  const cpuBefore = cpuSecondsOf(spec.workerdPids);
  const generatorBefore = process.cpuUsage();

  let instance: ReturnType<typeof autocannon> | undefined = undefined;
  instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationSeconds,
    timeout: 10,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        setupRequest: (request) => {
          // Stop early rather than reuse a body: a reused assertion is a replay and would be refused.
          if (!poolRanLow && spec.bodies.remaining <= spec.connections * 2) {
            poolRanLow = true;
            instance?.stop();
          }
          const body = spec.bodies.take() ?? fallback;
          fallback = body;
          return { ...request, body };
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
    workerdCpuMsPerRequest: requests > 0 ? round((cpuSeconds * 1000) / requests, 3) : 0,
    workerdCpuCores: round(cpuSeconds / seconds, 2),
    loadGeneratorCpuCores: round((generator.user + generator.system) / 1e6 / seconds, 2),
    poolRanLow,
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
