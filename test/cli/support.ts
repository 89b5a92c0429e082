// Test support for the CLI suites: runs the CLI as a real process (through the package's bin shim), makes
// throwaway folders and key files, and fingerprints a local state folder to prove that nothing was written.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from "jose";

export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(PROJECT_ROOT, "scripts/bin/edge-token-service.mjs");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The environment of a user shell: no npm script variables, telemetry off. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
  // A developer's own npm and operator settings never reach the commands under test.
  for (const name of Object.keys(env)) {
    if (name.startsWith("npm_") || name.startsWith("TOKEN_SERVICE_") || name === "INIT_CWD") delete env[name];
  }
  return env;
}

/** Runs `edge-token-service <args>` in `cwd` and resolves with its exit status and output (never rejects). */
export function runCli(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  const env = cleanEnv();
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? PROJECT_ROOT, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolvePromise({ status, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

/** The lines a failing command wrote to stderr; the contract is exactly one. */
export function stderrLines(result: CliResult): string[] {
  return result.stderr.split("\n").filter((line) => line !== "");
}

export async function temporaryFolder(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `cli-test-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A digest of every file (path and bytes) under `folder`: equal digests mean nothing was written. */
export async function folderFingerprint(folder: string): Promise<string> {
  const hash = createHash("sha256");
  const entries = (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))
    .sort();
  for (const path of entries) {
    hash.update(`${path.slice(folder.length)}\0`);
    hash.update(await readFile(path));
  }
  return hash.digest("hex");
}

export interface TestKeyPair {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
  publicPem: string;
  privatePem: string;
}

/** A key pair made with WebCrypto through jose; kid is the RFC 7638 thumbprint. */
export async function testKeyPair(
  alg: "ES256" | "EdDSA" | "RS256" = "ES256",
  modulusLength = 2048,
): Promise<TestKeyPair> {
  const options = alg === "EdDSA" ? { crv: "Ed25519", extractable: true } : { extractable: true, modulusLength };
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const publicJwk = await exportJWK(publicKey);
  return {
    kid: await calculateJwkThumbprint(publicJwk),
    publicJwk,
    privateJwk: await exportJWK(privateKey),
    publicPem: await exportSPKI(publicKey),
    privatePem: await exportPKCS8(privateKey),
  };
}

/**
 * An ES256 pair whose RFC 7638 thumbprint starts with "-" (about one key in 64): such kids look like flags on a
 * command line, and the CLI must still take them as values.
 */
export async function testKeyPairWithDashedKid(): Promise<TestKeyPair> {
  for (;;) {
    const pair = await testKeyPair("ES256");
    if (pair.kid.startsWith("-")) return pair;
  }
}

export async function writeJson(path: string, value: unknown): Promise<string> {
  await writeFile(path, JSON.stringify(value));
  return path;
}
