// The e2e suite's view of the local server: the CLI's own starter (scripts/lib/local-server.ts, the code behind
// `npm run demo`) with a private state folder and a private signing key, and otherwise the shipped configuration
// (the client record cache included). Never touches the developer's state. A failed start reports its last lines.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type LocalServer,
  LocalServerStartError,
  startLocalServer,
  stopAllLocalServers,
  stopLocalServersOnSignals,
} from "../../../scripts/lib/local-server";
import { PROJECT_ROOT } from "../../../scripts/lib/user-paths";

export { QUIET_WRANGLER_ENV } from "../../../scripts/lib/wrangler-process";
export { PROJECT_ROOT };
export type DevServer = LocalServer;

// A test run ended by a signal (Ctrl-C, a killed worker) takes its servers down with it.
stopLocalServersOnSignals();

export interface DevServerOptions {
  /** Local KV and Durable Object state (`wrangler dev --persist-to`), shared with the CLI's `--persist-to`. */
  persistTo: string;
  /** A private .dev.vars-style file holding SIGNING_KEYS (`wrangler dev --env-file`); the project's .dev.vars is not read. */
  envFile: string;
  /** Listen on this port (a restart keeps its issuer); a free one by default. */
  port?: number;
  /** Append the server's output to this file. */
  logFile?: string;
  /** `--var NAME:value` overrides of the shipped [vars]. */
  vars?: Record<string, string>;
}

/** CLIENT_CACHE_TTL as wrangler.toml ships it: how long a running server may still serve a changed client record. */
export const SHIPPED_CLIENT_CACHE_TTL_SECONDS = Number(
  /^CLIENT_CACHE_TTL\s*=\s*"(\d+)"/m.exec(readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8"))?.[1] ?? Number.NaN,
);

/** Starts `npm run dev` as the README does, on a loopback port with a matching ISSUER; resolves once its metadata answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  try {
    return await startLocalServer(options);
  } catch (err) {
    if (err instanceof LocalServerStartError) throw new Error(`${err.message}:\n${err.serverLog}`);
    throw err;
  }
}

/** Stops every server this process started, those still starting included. For afterAll hooks. */
export const stopAllDevServers = stopAllLocalServers;
