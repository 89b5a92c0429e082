// Vitest global setup for test/e2e/: starts one shared `npm run dev` with throwaway state and its own signing key,
// hands its issuer, state folder and output log to the tests, and always stops it and deletes the state afterwards.
// The server asks for DPoP server nonces (DPOP_NONCE=required), which touches only requests that carry a DPoP proof:
// so the DPoP clients prove they handle use_dpop_nonce, and every other client runs on the shipped configuration. It
// also fetches loopback key servers (ALLOW_INSECURE_JWKS_URI=true), as the federation suite's issuers are.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { writeSigningKeysEnvFile } from "./cli";
import { type DevServer, startDevServer } from "./dev-server";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared server's issuer, e.g. http://127.0.0.1:54321. */
    issuer: string;
    /** Its `--persist-to` folder, for the CLI's `--persist-to`. */
    persistTo: string;
    /** The file its output is appended to, audit lines included. */
    serverLog: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const folder = await mkdtemp(join(tmpdir(), "token-service-e2e-"));
  const persistTo = join(folder, "state");
  const serverLog = join(folder, "server.log");
  let server: DevServer | undefined;
  const teardown = async () => {
    await server?.stop();
    await rm(folder, { recursive: true, force: true });
  };
  try {
    const envFile = await writeSigningKeysEnvFile(folder, { DPOP_NONCE_SECRET: randomBytes(32).toString("base64url") });
    server = await startDevServer({
      persistTo,
      envFile,
      logFile: serverLog,
      vars: { DPOP_NONCE: "required", ALLOW_INSECURE_JWKS_URI: "true" },
    });
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide("issuer", server.issuer);
  project.provide("persistTo", persistTo);
  project.provide("serverLog", serverLog);
  return teardown;
}
