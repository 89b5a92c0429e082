// Runs the example resource server (examples/resource-server/, the verifier in a Worker) under `wrangler dev` on a
// free loopback port, pointed at the e2e token service, and stops its whole process group afterwards. Its state
// goes to a throwaway folder; it never writes into examples/.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { freePort } from "../../../scripts/lib/local-server";
import { PROJECT_ROOT, QUIET_WRANGLER_ENV } from "./dev-server";

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
/** Bundling the example and starting workerd on a busy two-core machine. */
const STARTUP_TIMEOUT_MS = 120_000;
const LINES_KEPT = 40;

export interface ExampleResourceServer {
  /** e.g. http://127.0.0.1:54321 */
  origin: string;
  stop(): Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

export async function startExampleResourceServer(options: {
  issuer: string;
  audience: string;
  persistTo: string;
}): Promise<ExampleResourceServer> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    ...[wranglerBin, "dev", "-c", "examples/resource-server/wrangler.toml"],
    ...["--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)],
    ...["--var", `ISSUER:${options.issuer}`, "--var", `AUDIENCE:${options.audience}`],
    ...["--persist-to", options.persistTo, "--show-interactive-dev-session=false"],
  ];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const onExit = () => killGroup(child, "SIGKILL");
  process.once("exit", onExit);
  const lines: string[] = [];
  const keep = (chunk: string) => {
    lines.push(...chunk.split("\n").filter((line) => line.trim() !== ""));
    lines.splice(0, Math.max(0, lines.length - LINES_KEPT));
  };
  child.stdout!.setEncoding("utf8").on("data", keep);
  child.stderr!.setEncoding("utf8").on("data", keep);
  const stop = async () => {
    killGroup(child, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    killGroup(child, "SIGKILL");
    process.off("exit", onExit);
  };
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      // Without a token the example answers 401 with a challenge: it is up.
      const response = await fetch(`${origin}/hello`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      if (response.status === 401) return { origin, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the example resource server did not start:\n${lines.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
