// The e2e suite's view of the local server: the CLI's own starter (scripts/lib/local-server.ts, the code behind
// `npm run demo`) with a private state folder, a private signing key and no client cache. Never touches the
// developer's state. A failed start reports the server's last lines.
import {
  type LocalServer,
  LocalServerStartError,
  startLocalServer,
  stopAllLocalServers,
  stopLocalServersOnSignals,
} from "../../../scripts/lib/local-server";

export { PROJECT_ROOT } from "../../../scripts/lib/user-paths";
export { QUIET_WRANGLER_ENV } from "../../../scripts/lib/wrangler-process";
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
}

/** Starts `npm run dev` as the README does, on a loopback port with a matching ISSUER; resolves once its metadata answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  try {
    // The suite changes client records and expects the next request to see it.
    return await startLocalServer({ ...options, vars: { CLIENT_CACHE_TTL: "0" } });
  } catch (err) {
    if (err instanceof LocalServerStartError) throw new Error(`${err.message}:\n${err.serverLog}`);
    throw err;
  }
}

/** Stops every server this process started, those still starting included. For afterAll hooks. */
export const stopAllDevServers = stopAllLocalServers;
