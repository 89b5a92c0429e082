// Runs the project's pinned wrangler as a child process, with telemetry and network lookups switched off,
// from the project root so it reads wrangler.toml. Captures output; never prints it and never retries.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { CliError } from "./cli-error";
import { PROJECT_ROOT } from "./user-paths";

/** Set on every wrangler we start: no usage metrics, no fetches of Cloudflare metadata. */
export const QUIET_WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } as const;

/** A wrangler call that has not finished by then is stuck (local KV commands take about three seconds). */
const WRANGLER_TIMEOUT_MS = 120_000;

const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

export interface WranglerResult {
  stdout: string;
  stderr: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC, which is what this strips.
const ANSI = /\u001b\[[0-9;]*m/g;

/** The line of wrangler's output that says what went wrong. */
function failureLine(stdout: string, stderr: string): string {
  const lines = `${stderr}\n${stdout}`
    .replace(ANSI, "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const error = lines.find((l) => l.includes("[ERROR]"));
  if (error) return error.replace(/^.*\[ERROR\]\s*/, "");
  return lines.at(-1) ?? "no output";
}

/** Runs `wrangler <args>`; resolves with its output when it exits 0, else throws CliError("wrangler_failed"). */
export function runWrangler(args: string[]): Promise<WranglerResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...QUIET_WRANGLER_ENV },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: WRANGLER_TIMEOUT_MS,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (err) => reject(new CliError("wrangler_failed", `cannot run wrangler: ${err.message}`)));
    child.on("close", (status, signal) => {
      if (status === 0) return resolvePromise({ stdout, stderr });
      const why = signal ? `stopped by ${signal}` : failureLine(stdout, stderr);
      reject(new CliError("wrangler_failed", `wrangler ${args.slice(0, 3).join(" ")} failed: ${why}`));
    });
  });
}
