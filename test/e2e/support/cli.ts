// Runs the project's CLI (`npm run --silent cli -- ...`) and docs/examples/openssl-curl.sh as a user would,
// against throwaway state. Resolves with the output; rejects with the output when the command fails.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT, QUIET_WRANGLER_ENV } from "./dev-server";

/** A CLI command makes at most a couple of wrangler kv calls (about three seconds each). */
const COMMAND_TIMEOUT_MS = 120_000;

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<CommandOutput> {
  return new Promise((resolveRun, reject) => {
    execFile(
      file,
      args,
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...QUIET_WRANGLER_ENV, ...env },
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: 8 << 20,
      },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${file} ${args.join(" ")} failed (${err.message.split("\n")[0]}):\n${stderr}${stdout}`));
        else resolveRun({ stdout, stderr });
      },
    );
  });
}

/** `npm run --silent cli -- <args>`. */
export function cli(args: string[]): Promise<CommandOutput> {
  return run("npm", ["run", "--silent", "cli", "--", ...args]);
}

/** Registers a client in the registry under `persistTo` with the public keys in `jwksFile`. */
export async function addClient(
  persistTo: string,
  clientId: string,
  jwksFile: string,
  extra: string[] = [],
): Promise<void> {
  await cli(["clients", "add", clientId, "--jwks", jwksFile, "--persist-to", persistTo, ...extra]);
}

/** `clients disable|enable <id>` against the registry under `persistTo`. */
export async function setClientStatus(
  persistTo: string,
  clientId: string,
  action: "disable" | "enable",
): Promise<void> {
  await cli(["clients", action, clientId, "--persist-to", persistTo]);
}

/** Writes a fresh private env file for `wrangler dev --env-file` holding a SIGNING_KEYS secret made by the CLI. */
export async function writeSigningKeysEnvFile(folder: string): Promise<string> {
  const { stdout } = await cli(["signing-key", "generate"]);
  const path = join(folder, "dev.vars");
  await writeFile(path, `SIGNING_KEYS='${stdout.trim()}'\n`, { mode: 0o600 });
  return path;
}

/** `signing-key rotate --in-place` on that env file (the documented local rotation). */
export async function rotateSigningKeys(envFile: string): Promise<void> {
  await cli(["signing-key", "rotate", "--in-place", "--dev-vars", envFile]);
}

/** docs/examples/openssl-curl.sh against `issuer`, registering `clientId` under `persistTo`; resolves with its stdout. */
export async function runOpensslCurlExample(issuer: string, clientId: string, persistTo: string): Promise<string> {
  const { stdout } = await run("bash", ["docs/examples/openssl-curl.sh", issuer, clientId], { PERSIST_TO: persistTo });
  return stdout;
}
