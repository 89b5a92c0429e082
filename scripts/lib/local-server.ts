// Starts and stops a local token service (`npm run dev` on free loopback ports) for the demo and the tests,
// and tells whether a server already answers at an issuer. Stops the whole process group it started.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { CliError } from "./cli-error";
import { metadataUrl, type ServerMetadata } from "./token-client";
import { PROJECT_ROOT } from "./user-paths";
import { QUIET_WRANGLER_ENV } from "./wrangler-process";

/** wrangler dev usually answers within ten seconds; a cold machine shared with others may need more. */
const STARTUP_TIMEOUT_MS = 120_000;
/** Time given to the server to exit after SIGTERM before the group is killed. */
const STOP_GRACE_MS = 5_000;
/** Lines of server output kept to explain a failed start. */
const LOG_LINES_KEPT = 40;

export interface LocalServer {
  issuer: string;
  /** The last lines the server printed. */
  log(): string;
  stop(): Promise<void>;
}

/** The metadata at `issuer` if a token service answers there within two seconds, else null. */
export async function metadataIfServing(issuer: string): Promise<ServerMetadata | null> {
  try {
    const response = await fetch(metadataUrl(issuer), { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return null;
    const metadata = (await response.json()) as ServerMetadata;
    return metadata.issuer === issuer && typeof metadata.token_endpoint === "string" ? metadata : null;
  } catch {
    return null;
  }
}

/** A TCP port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolvePromise(true);
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

/**
 * Runs `npm run dev` (which first writes .dev.vars if needed) with ISSUER set to the loopback URL it listens
 * on, in its own process group, and waits until its metadata answers. `persistTo` keeps its state elsewhere.
 */
export async function startLocalServer(options: { persistTo?: string } = {}): Promise<LocalServer> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const args = ["run", "dev", "--", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--var", `ISSUER:${issuer}`, "--show-interactive-dev-session=false");
  if (options.persistTo !== undefined) args.push("--persist-to", options.persistTo);

  const child = spawn("npm", args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const keep = (chunk: string) => {
    lines.push(...chunk.split("\n").filter((l) => l.trim() !== ""));
    lines.splice(0, Math.max(0, lines.length - LOG_LINES_KEPT));
  };
  child.stdout!.setEncoding("utf8").on("data", keep);
  child.stderr!.setEncoding("utf8").on("data", keep);

  const stop = async () => {
    if (exited(child)) return;
    signalGroup(child, "SIGTERM");
    if (!(await waitForExit(child, STOP_GRACE_MS))) signalGroup(child, "SIGKILL");
    await waitForExit(child, STOP_GRACE_MS);
    // workerd may outlive its parent by a moment; make sure nothing of the group is left.
    signalGroup(child, "SIGKILL");
  };
  const server: LocalServer = { issuer, log: () => lines.join("\n"), stop };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new CliError("server_unreachable", `the local server exited during startup: ${lines.at(-1) ?? "no output"}`);
    }
    if ((await metadataIfServing(issuer)) !== null) return server;
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new CliError("server_unreachable", `the local server did not answer at ${issuer} within ${STARTUP_TIMEOUT_MS / 1000} s`);
}
