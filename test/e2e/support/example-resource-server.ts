// Runs the example resource server (examples/resource-server/, the verifier in a Worker) under `wrangler dev` on a
// free loopback port, pointed at the e2e token service, through the CLI's own server starter (so its whole process
// group stops with the run). Its state goes to a throwaway folder; it never writes into examples/.
import { createRequire } from "node:module";
import { freePort, LocalServerStartError, startServerProcess } from "../../../scripts/lib/local-server";

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

export interface ExampleResourceServer {
  /** e.g. http://127.0.0.1:54321 */
  origin: string;
  stop(): Promise<void>;
}

/** Without a token the example answers 401 with a challenge: then it is up. */
async function answersWithChallenge(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status === 401;
  } catch {
    return false;
  }
}

export async function startExampleResourceServer(options: {
  issuer: string;
  audience: string;
  persistTo: string;
  /** A `wrangler dev --env-file` with the Worker's secrets (its introspection credentials, for online mode). */
  envFile?: string;
}): Promise<ExampleResourceServer> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  try {
    const server = await startServerProcess({
      command: process.execPath,
      args: [
        ...[wranglerBin, "dev", "-c", "examples/resource-server/wrangler.toml"],
        ...["--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)],
        ...["--var", `ISSUER:${options.issuer}`, "--var", `AUDIENCE:${options.audience}`],
        ...["--persist-to", options.persistTo, "--show-interactive-dev-session=false"],
        ...(options.envFile ? ["--env-file", options.envFile] : []),
      ],
      name: "the example resource server",
      url: origin,
      isReady: () => answersWithChallenge(`${origin}/hello`),
    });
    return { origin, stop: server.stop };
  } catch (err) {
    if (err instanceof LocalServerStartError) throw new Error(`${err.message}:\n${err.serverLog}`);
    throw err;
  }
}
