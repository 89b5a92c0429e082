// Reads and writes the CLIENTS KV namespace through wrangler's `kv` commands (local state or --remote).
// Values travel through private temporary files, never argv. Knows nothing about what the values mean.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "./cli-error";
import type { RegistryTarget } from "./registry-target";
import { runWrangler } from "./wrangler-process";

/** The KV binding in wrangler.toml that holds client records. */
const BINDING = "CLIENTS";

function targetArgs(target: RegistryTarget): string[] {
  if (target.kind === "remote") return ["--binding", BINDING, "--remote"];
  return [
    "--binding",
    BINDING,
    "--local",
    ...(target.persistTo === undefined ? [] : ["--persist-to", target.persistTo]),
  ];
}

/** Runs `work` with a file holding `content` (mode 0600, in a fresh private folder) and removes it after. */
async function withTemporaryFile<T>(content: string, work: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "token-service-kv-"));
  try {
    const path = join(dir, "value.json");
    await writeFile(path, content, { mode: 0o600 });
    return await work(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The JSON document in wrangler's output, which may be surrounded by banners and a "Success!" line. */
function jsonIn(stdout: string, what: string): unknown {
  const start = stdout.search(/[[{]/);
  const end = Math.max(stdout.lastIndexOf("}"), stdout.lastIndexOf("]"));
  if (start >= 0 && end > start) {
    try {
      return JSON.parse(stdout.slice(start, end + 1));
    } catch {
      // fall through to the error below
    }
  }
  throw new CliError("wrangler_failed", `could not read the output of wrangler ${what}`);
}

export async function kvPut(target: RegistryTarget, key: string, value: string): Promise<void> {
  await withTemporaryFile(value, (path) =>
    runWrangler(["kv", "key", "put", key, "--path", path, ...targetArgs(target)]),
  );
}

export async function kvDelete(target: RegistryTarget, key: string): Promise<void> {
  await runWrangler(["kv", "key", "delete", key, ...targetArgs(target)]);
}

/** Values of several keys in one wrangler call; a missing key maps to null. */
export async function kvGetMany(target: RegistryTarget, keys: string[]): Promise<Map<string, string | null>> {
  const result = new Map<string, string | null>();
  if (keys.length === 0) return result;
  const { stdout } = await withTemporaryFile(JSON.stringify(keys), (path) =>
    runWrangler(["kv", "bulk", "get", path, ...targetArgs(target)]),
  );
  const parsed = jsonIn(stdout, "kv bulk get") as Record<string, { value?: unknown } | null>;
  for (const key of keys) {
    const value = parsed?.[key]?.value;
    result.set(key, typeof value === "string" ? value : null);
  }
  return result;
}

export async function kvGet(target: RegistryTarget, key: string): Promise<string | null> {
  return (await kvGetMany(target, [key])).get(key) ?? null;
}

/** Every key name under `prefix`. */
export async function kvListKeys(target: RegistryTarget, prefix: string): Promise<string[]> {
  const { stdout } = await runWrangler(["kv", "key", "list", "--prefix", prefix, ...targetArgs(target)]);
  const parsed = jsonIn(stdout, "kv key list");
  if (!Array.isArray(parsed))
    throw new CliError("wrangler_failed", "could not read the output of wrangler kv key list");
  return parsed
    .map((entry: { name?: unknown }) => entry?.name)
    .filter((name): name is string => typeof name === "string");
}
