// Starts and stops a local token service (`npm run dev` on free loopback ports) for the demo and the tests,
// and tells whether a server already answers at an issuer; starts any other local server process the same way.
// Stops the whole process group it started.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { CliError } from "./cli-error";
import { metadataUrl, type ServerMetadata } from "./token-client";
import { PROJECT_ROOT } from "./user-paths";
import { QUIET_WRANGLER_ENV } from "./wrangler-process";

/** wrangler dev usually answers within ten seconds; a cold machine shared with others may need much more. */
const STARTUP_TIMEOUT_MS = 180_000;
/** Time given to the server to exit after SIGTERM before the group is killed. */
const STOP_GRACE_MS = 5_000;
/** Lines of server output kept to explain a failed start. */
const LOG_LINES_KEPT = 60;

export interface LocalServerOptions {
  /** Local KV and Durable Object state (`wrangler dev --persist-to`), shared with the CLI's `--persist-to`. */
  persistTo?: string;
  /** A .dev.vars-style file holding SIGNING_KEYS (`wrangler dev --env-file`); the project's .dev.vars is then not read. */
  envFile?: string;
  /** Listen on this port (a restart keeps its issuer); a free one by default. */
  port?: number;
  /** More `--var NAME:value` overrides; ISSUER is always set to the loopback URL. */
  vars?: Record<string, string>;
  /** Also append everything the server prints to this file (tests read its audit lines there). */
  logFile?: string;
}

export interface LocalServer {
  issuer: string;
  port: number;
  /** The last lines the server printed. */
  log(): string;
  stop(): Promise<void>;
}

/** A failed start: one line for the CLI, and the server's last lines for whoever needs to know why. */
export class LocalServerStartError extends CliError {
  readonly serverLog: string;

  constructor(message: string, serverLog: string) {
    super("server_unreachable", message);
    this.name = "LocalServerStartError";
    this.serverLog = serverLog;
  }
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

/** Process groups started and not yet stopped, those still starting up included. */
const running = new Set<ChildProcess>();

function killAllNow(): void {
  for (const child of running) signalGroup(child, "SIGKILL");
}

let exitHookInstalled = false;

/** However this process ends, no server group it started outlives it. Synchronous, so it works in an "exit" handler. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", killAllNow);
}

/**
 * For test runners, which have no cleanup of their own on a signal: on SIGINT, SIGTERM or SIGHUP kill every
 * server this process started and exit. Programs with their own signal handling (the demo) do not call it.
 */
export function stopLocalServersOnSignals(): void {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.once(signal, () => {
      killAllNow();
      process.exit(code);
    });
  }
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

/**
 * Stops every server this process started, those still starting included (whose startLocalServer then rejects).
 * For test teardown hooks: a hook that timed out may never have received its server.
 */
export async function stopAllLocalServers(): Promise<void> {
  await Promise.all([...running].map((child) => stopGroup(child)));
}

/** A server process this module started: its last lines of output, and how to stop its whole group. */
export interface ServerProcess {
  log(): string;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** The program and its arguments, run from the project root in a process group of its own. */
  command: string;
  args: string[];
  /** What the server is, for messages ("the local server"). */
  name: string;
  /** Where it answers, for the timeout message. */
  url: string;
  /** Whether it answers yet; asked every 500 ms until it does, it exits, or the startup timeout passes. */
  isReady(): Promise<boolean>;
  /** Also append everything the server prints to this file. */
  logFile?: string;
}

/**
 * Starts a server process in its own group (stopped with this process, whatever ends it) and waits until it is
 * ready. A failed start stops the group and throws LocalServerStartError with the server's last lines.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  installExitHook();
  const child = spawn(options.command, options.args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: string) => {
    lines.push(...chunk.split("\n").filter((l) => l.trim() !== ""));
    lines.splice(0, Math.max(0, lines.length - LOG_LINES_KEPT));
  };
  const logFile = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" });
  if (logFile) child.once("exit", () => logFile.end());
  const record = (chunk: string) => {
    keep(chunk);
    logFile?.write(chunk);
  };
  child.stdout!.setEncoding("utf8").on("data", record);
  child.stderr!.setEncoding("utf8").on("data", record);

  const server: ServerProcess = { log: () => lines.join("\n"), stop: () => stopGroup(child) };
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let failure: LocalServerStartError;
  for (;;) {
    if (exited(child)) {
      failure = new LocalServerStartError(
        `${options.name} exited during startup: ${lines.at(-1) ?? "no output"}`,
        server.log(),
      );
      break;
    }
    if (await options.isReady()) return server;
    if (Date.now() >= deadline) {
      failure = new LocalServerStartError(
        `${options.name} did not answer at ${options.url} within ${STARTUP_TIMEOUT_MS / 1000} s`,
        server.log(),
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await server.stop();
  throw failure;
}

/**
 * Runs `npm run dev` (which first writes .dev.vars if needed) with ISSUER set to the loopback URL it listens
 * on, in its own process group, and waits until its metadata answers.
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const args = [
    "run",
    "dev",
    "--",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
  ];
  args.push("--var", `ISSUER:${issuer}`, "--show-interactive-dev-session=false");
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
  if (options.persistTo !== undefined) args.push("--persist-to", options.persistTo);
  if (options.envFile !== undefined) args.push("--env-file", options.envFile);

  const server = await startServerProcess({
    command: "npm",
    args,
    name: "the local server",
    url: issuer,
    isReady: async () => (await metadataIfServing(issuer)) !== null,
    ...(options.logFile !== undefined ? { logFile: options.logFile } : {}),
  });
  return { issuer, port, ...server };
}
