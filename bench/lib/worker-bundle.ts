// Builds the Worker exactly as a deploy would (`wrangler deploy --dry-run --outdir`) and measures the bundle.
// Writes only into a fresh temporary directory; never deploys, never sends metrics.
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

export interface WorkerBundle {
  directory: string;
  /** The bundled entry module (ES module) that wrangler would upload. */
  entryPath: string;
  bytes: number;
  gzipBytes: number;
  /** wrangler's own "Total Upload: ... / gzip: ..." line, for cross-checking. */
  wranglerSummary: string;
}

export async function buildWorkerBundle(projectRoot: string): Promise<WorkerBundle> {
  const directory = await mkdtemp(join(tmpdir(), "token-service-bench-"));
  const wrangler = join(projectRoot, "node_modules", ".bin", "wrangler");
  const { stdout } = await promisify(execFile)(wrangler, ["deploy", "--dry-run", "--outdir", directory], {
    cwd: projectRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
  const entryPath = join(directory, "index.js");
  const code = await readFile(entryPath);
  return {
    directory,
    entryPath,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    wranglerSummary: stdout.split("\n").find((line) => line.includes("Total Upload"))?.trim() ?? "",
  };
}
