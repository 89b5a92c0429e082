// Starts the token service the way the README does (`npm run dev -- --port <p> --var ISSUER:... --persist-to <dir>`)
// in its own process group, waits for its metadata, and stops the whole group. Never touches the developer's state.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Set on every wrangler the suite starts: no usage metrics, no fetches of Cloudflare metadata. */
export const QUIET_WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } as const;

/** wrangler dev usually answers within ten seconds; a cold, shared machine may need much more. */
const STARTUP_TIMEOUT_MS = 180_000;
/** Time given to the group to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** Lines of server output kept to explain a failure. */
const LOG_LINES_KEPT = 60;

export interface DevServerOptions {
  /** Local KV and Durable Object state (`wrangler dev --persist-to`), shared with the CLI's `--persist-to`. */
  persistTo: string;
  /** A private .dev.vars-style file holding SIGNING_KEYS (`wrangler dev --env-file`); the project's .dev.vars is not read. */
  envFile: string;
  /** Listen on this port (a restart keeps its issuer); a free one by default. */
  port?: number;
}

export interface DevServer {
  issuer: string;
  port: number;
  /** The last lines the server printed. */
  log(): string;
  stop(): Promise<void>;
}

/** Process groups started and not yet stopped, including any still starting up. */
const running = new Set<ChildProcess>();

function killAllNow(): void {
  for (const child of running) signalGroup(child, "SIGKILL");
}
// If the test process ends early (a timeout, Ctrl-C, a killed worker), take every server down with it.
process.once("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(128 + (signal === "SIGHUP" ? 1 : signal === "SIGINT" ? 2 : 15));
  });
}

/**
 * Stops every server this process started, those still starting included (whose startDevServer then rejects).
 * For afterAll hooks: a hook that timed out may never have received its server.
 */
export async function stopAllDevServers(): Promise<void> {
  await Promise.all([...running].map((child) => stopGroup(child)));
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (!exited(child)) {
    signalGroup(child, "SIGTERM");
    if (!(await waitForExit(child, STOP_GRACE_MS))) signalGroup(child, "SIGKILL");
    await waitForExit(child, STOP_GRACE_MS);
  }
  // workerd may outlive npm by a moment; make sure nothing of the group is left.
  signalGroup(child, "SIGKILL");
  running.delete(child);
}

/** A TCP port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is already gone
  }
}

async function metadataAnswers(issuer: string): Promise<boolean> {
  try {
    const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return false;
    const metadata = (await response.json()) as { issuer?: unknown };
    return metadata.issuer === issuer;
  } catch {
    return false;
  }
}

/** Starts `npm run dev` on a free loopback port with ISSUER set to match; resolves once its metadata answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const args = [
    "run", "dev", "--",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--var", `ISSUER:${issuer}`,
    // The suite changes client records and expects the next request to see it.
    "--var", "CLIENT_CACHE_TTL:0",
    "--persist-to", options.persistTo,
    "--env-file", options.envFile,
    "--show-interactive-dev-session=false",
  ];
  const child = spawn("npm", args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: string) => {
    lines.push(...chunk.split("\n").filter((line) => line.trim() !== ""));
    lines.splice(0, Math.max(0, lines.length - LOG_LINES_KEPT));
  };
  child.stdout!.setEncoding("utf8").on("data", keep);
  child.stderr!.setEncoding("utf8").on("data", keep);

  const stop = () => stopGroup(child);
  const server: DevServer = { issuer, port, log: () => lines.join("\n"), stop };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (exited(child)) throw new Error(`npm run dev exited during startup:\n${server.log()}`);
      if (await metadataAnswers(issuer)) return server;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`npm run dev did not serve metadata at ${issuer} within ${STARTUP_TIMEOUT_MS / 1000} s:\n${server.log()}`);
  } catch (err) {
    await stop();
    throw err;
  }
}
