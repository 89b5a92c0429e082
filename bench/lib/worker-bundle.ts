// Builds the Worker exactly as a deploy would (`wrangler deploy --dry-run --outdir`) and measures the bundle, from the
// working tree or from a git commit. Writes only into fresh temporary directories; never deploys, never sends metrics.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
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

/**
 * Bundles the Worker of `projectRoot`'s working tree or, with `gitRef`, of that commit (extracted with `git archive`
 * into a temporary directory, so uncommitted changes in the working tree are not measured).
 */
export async function buildWorkerBundle(projectRoot: string, gitRef?: string): Promise<WorkerBundle> {
  const directory = await mkdtemp(join(tmpdir(), "token-service-bench-"));
  const source = gitRef === undefined ? projectRoot : await extractCommit(projectRoot, gitRef);
  const wrangler = join(projectRoot, "node_modules", ".bin", "wrangler");
  const { stdout } = await promisify(execFile)(wrangler, ["deploy", "--dry-run", "--outdir", directory], {
    cwd: source,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (source !== projectRoot) await rm(source, { recursive: true, force: true });
  const entryPath = join(directory, "index.js");
  const code = await readFile(entryPath);
  return {
    directory,
    entryPath,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    wranglerSummary:
      stdout
        .split("\n")
        .find((line) => line.includes("Total Upload"))
        ?.trim() ?? "",
  };
}

async function extractCommit(projectRoot: string, gitRef: string): Promise<string> {
  const source = await mkdtemp(join(tmpdir(), "token-service-source-"));
  const archive = join(source, "source.tar");
  await promisify(execFile)("git", ["-C", projectRoot, "archive", "--format=tar", "-o", archive, gitRef]);
  await promisify(execFile)("tar", ["-xf", archive, "-C", source]);
  await symlink(join(projectRoot, "node_modules"), join(source, "node_modules"));
  return source;
}
