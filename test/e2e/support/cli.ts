// Runs the project's CLI (`npm run --silent cli -- ...`) and docs/examples/openssl-curl.sh as a user would,
// against throwaway state. Resolves with the output; rejects with the output when the command fails.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
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

/** `npm run --silent cli -- <args>`, with more environment variables when given. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CommandOutput> {
  return run("npm", ["run", "--silent", "cli", "--", ...args], env);
}

/**
 * Registers an operator client (scope admin, the admin audience) through the registry, as the README's bootstrap
 * does, with its private key in a file of `folder`, and returns the environment that sends `clients` commands to the
 * management API as that operator.
 */
export async function registerOperator(
  folder: string,
  persistTo: string,
  issuer: string,
  clientId = "e2e-operator",
): Promise<Record<string, string>> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const keyFile = join(folder, `${clientId}.private.jwk`);
  await writeFile(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: "ES256" }), { mode: 0o600 });
  const jwksFile = join(folder, `${clientId}.jwks.json`);
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...publicJwk, kid, alg: "ES256" }] }));
  await addClient(persistTo, clientId, jwksFile, ["--scope", "admin", "--audience", `${issuer}/admin`]);
  return {
    TOKEN_SERVICE_ADMIN_KEY: keyFile,
    TOKEN_SERVICE_ADMIN_CLIENT_ID: clientId,
    TOKEN_SERVICE_ISSUER: issuer,
  };
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

/** `clients disable|enable <id>` through the management API, as the operator `operatorEnv` names. */
export async function setClientStatus(
  operatorEnv: Record<string, string>,
  clientId: string,
  action: "disable" | "enable",
): Promise<void> {
  await cli(["clients", action, clientId], operatorEnv);
}

/** Writes a fresh private env file for `wrangler dev --env-file` holding a SIGNING_KEYS secret made by the CLI. */
export async function writeSigningKeysEnvFile(folder: string, extra: Record<string, string> = {}): Promise<string> {
  const { stdout } = await cli(["signing-key", "generate"]);
  const path = join(folder, "dev.vars");
  const lines = [
    `SIGNING_KEYS='${stdout.trim()}'`,
    ...Object.entries(extra).map(([name, value]) => `${name}=${value}`),
  ];
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o600 });
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
