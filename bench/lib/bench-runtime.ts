// Starts one Miniflare instance (one workerd process) holding the bundled token service and the bench-only reference
// Workers, each on its own direct socket so no proxy sits in front. KV and Durable Object storage live in a fresh
// directory on tmpfs (/dev/shm when present), deleted on dispose. Never reads or writes the project's .wrangler state.
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare, type WorkerOptions } from "miniflare";
import type { WorkerBundle } from "./worker-bundle";

/** The ClientAuthority RPCs of the bench entry (bench/workers/token-service-with-bench-rpc.js), as seen from Node. */
export interface BenchClientAuthority {
  benchPrefill(prefix: string, count: number, retainUntilMs: number): Promise<number>;
  benchRowCount(): Promise<number>;
  benchAlarmAt(): Promise<number | null>;
  /** Starts counting SQLite rows written. */
  benchCountRows(): Promise<void>;
  /** consume, tokenStatus and revokeToken calls received since benchCountRows. */
  benchCalls(): Promise<Record<"consume" | "tokenStatus" | "revokeToken", number>>;
  /** SQLite rows written since benchCountRows (cursor.rowsWritten), in all and by statement, and stops counting. */
  benchRowsWritten(): Promise<{ total: number; byStatement: Record<string, { rows: number; statements: number }> }>;
}

/** The two client registries: a handful of records, and the same plus 10,000 more (the many-clients variant's). */
export type Registry = "few" | "many";

export interface ClientRecordWriter {
  /** Writes records (KV key, JSON text) into one registry's KV namespace. */
  putAll(entries: ReadonlyArray<readonly [string, string]>, registry?: Registry): Promise<void>;
}

/** The token service Workers: same bundle, different [vars]. */
export const TOKEN_SERVICE_VARIANTS = {
  /** The values wrangler.toml ships with. */
  standard: "token-service",
  /** CLIENT_CACHE_TTL=0: every request reads and validates the client record from KV. */
  noClientCache: "token-service-no-client-cache",
  /** ASSERTION_MAX_LIFETIME=10, CLOCK_SKEW=0: the replay window closes within seconds (storage-bound run). */
  shortWindow: "token-service-short-window",
  /** Standard settings, reading the "many" registry (10,000 registered clients). */
  manyClients: "token-service-many-clients",
} as const;
export type TokenServiceVariant = keyof typeof TOKEN_SERVICE_VARIANTS;

export interface BenchRuntimeOptions {
  bundle: WorkerBundle;
  projectRoot: string;
  compatibilityDate: string;
  issuer: string;
  signingKeys: string;
  /** Public JWKs by algorithm, for the crypto-bound Worker. */
  clientPublicKeys: Record<string, unknown>;
  /** KV key of the record the platform floor reads. */
  floorClientKey: string;
  /** client_id prefix of the records the spread floor reads (`<prefix><i>`). */
  spreadClientPrefix: string;
}

export interface BenchRuntime {
  urls: {
    token: Record<TokenServiceVariant, URL>;
    floor: URL;
    cryptoBound: URL;
  };
  clients: ClientRecordWriter;
  replayGuard(variant: TokenServiceVariant, clientId: string): Promise<BenchClientAuthority>;
  /** Lines the runtime wrote (audit lines and errors), counted but not printed. */
  runtimeOutput: { lines: number; lastErrors: string[] };
  dispose(): Promise<void>;
}

const NAMESPACES: Record<Registry, string> = { few: "bench-clients", many: "bench-clients-many" };

export async function startBenchRuntime(options: BenchRuntimeOptions): Promise<BenchRuntime> {
  const entryPath = join(options.bundle.directory, "bench-entry.js");
  await copyFile(join(options.projectRoot, "bench", "workers", "token-service-with-bench-rpc.js"), entryPath);

  const tokenService = (name: string, vars: Record<string, string>, registry: Registry = "few"): WorkerOptions => ({
    name,
    modulesRoot: options.bundle.directory,
    modules: [
      { type: "ESModule", path: entryPath },
      { type: "ESModule", path: options.bundle.entryPath },
    ],
    compatibilityDate: options.compatibilityDate,
    bindings: {
      ISSUER: options.issuer,
      ACCESS_TOKEN_TTL: "600",
      CLOCK_SKEW: "30",
      ASSERTION_MAX_LIFETIME: "300",
      DEFAULT_AUDIENCE: "",
      CLIENT_CACHE_TTL: "5",
      SIGNING_KEYS: options.signingKeys,
      ...vars,
    },
    kvNamespaces: { CLIENTS: NAMESPACES[registry] },
    durableObjects: { CLIENT_AUTHORITY: { className: "ClientAuthority", useSQLite: true } },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });

  const runtimeOutput = { lines: 0, lastErrors: [] as string[] };
  const drain = (stream: Readable, keepErrors: boolean) => {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      runtimeOutput.lines += lines.length;
      if (keepErrors) runtimeOutput.lastErrors = [...runtimeOutput.lastErrors, ...lines].slice(-20);
    });
  };

  // On a disk-backed temp directory every simulated storage write waits for the disk; tmpfs leaves only the CPU work.
  const storageRoot = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "token-service-bench-"));
  const mf = new Miniflare({
    defaultPersistRoot: storageRoot,
    handleRuntimeStdio: (stdout, stderr) => {
      drain(stdout, false);
      drain(stderr, true);
    },
    workers: [
      tokenService(TOKEN_SERVICE_VARIANTS.standard, {}),
      tokenService(TOKEN_SERVICE_VARIANTS.noClientCache, { CLIENT_CACHE_TTL: "0" }),
      tokenService(TOKEN_SERVICE_VARIANTS.shortWindow, { ASSERTION_MAX_LIFETIME: "10", CLOCK_SKEW: "0" }),
      tokenService(TOKEN_SERVICE_VARIANTS.manyClients, {}, "many"),
      {
        name: "platform-floor",
        modules: true,
        scriptPath: join(options.projectRoot, "bench", "workers", "platform-floor.js"),
        compatibilityDate: options.compatibilityDate,
        bindings: { FLOOR_CLIENT_KEY: options.floorClientKey, SPREAD_CLIENT_PREFIX: options.spreadClientPrefix },
        kvNamespaces: { CLIENTS: NAMESPACES.few, SPREAD_CLIENTS: NAMESPACES.many },
        durableObjects: { FLOOR_STORE: { className: "FloorJtiStore", useSQLite: true } },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
      {
        name: "crypto-bound",
        modules: true,
        scriptPath: join(options.projectRoot, "bench", "workers", "crypto-bound.js"),
        compatibilityDate: options.compatibilityDate,
        bindings: {
          ISSUER: options.issuer,
          SIGNING_KEYS: options.signingKeys,
          CLIENT_PUBLIC_KEYS: JSON.stringify(options.clientPublicKeys),
        },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
      {
        name: "registry-seeder",
        modules: true,
        scriptPath: join(options.projectRoot, "bench", "workers", "registry-seeder.js"),
        compatibilityDate: options.compatibilityDate,
        kvNamespaces: { few: NAMESPACES.few, many: NAMESPACES.many },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  });
  await mf.ready;

  const tokenUrls = {} as Record<TokenServiceVariant, URL>;
  for (const [variant, name] of Object.entries(TOKEN_SERVICE_VARIANTS) as Array<[TokenServiceVariant, string]>) {
    tokenUrls[variant] = new URL("/token", await mf.unsafeGetDirectURL(name));
  }
  const seeder = await mf.unsafeGetDirectURL("registry-seeder");

  return {
    urls: {
      token: tokenUrls,
      floor: new URL("/token", await mf.unsafeGetDirectURL("platform-floor")),
      cryptoBound: await mf.unsafeGetDirectURL("crypto-bound"),
    },
    clients: {
      async putAll(entries, registry = "few") {
        const response = await fetch(new URL(`/${registry}`, seeder), {
          method: "POST",
          body: JSON.stringify(entries),
        });
        if (!response.ok) throw new Error(`registry seeder answered ${response.status}: ${await response.text()}`);
      },
    },
    async replayGuard(variant, clientId) {
      const namespace = await mf.getDurableObjectNamespace("CLIENT_AUTHORITY", TOKEN_SERVICE_VARIANTS[variant]);
      return namespace.get(namespace.idFromName(clientId)) as unknown as BenchClientAuthority;
    },
    runtimeOutput,
    async dispose() {
      await mf.dispose();
      await rm(storageRoot, { recursive: true, force: true });
    },
  };
}
