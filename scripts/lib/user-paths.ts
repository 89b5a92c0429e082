// Where things are on disk: the project root (wrangler.toml, .dev.vars, local KV state) and the folder that
// relative paths typed by the user refer to. No I/O beyond reading the environment.
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the folder holding wrangler.toml. */
export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * `npm run cli` runs in the project root; npm records where the user typed the command in INIT_CWD. Relative
 * paths are resolved from there, so `npm run cli -- clients add x --jwks ./key.pem` works from any folder.
 */
function userDirectory(): string {
  if (process.env.npm_lifecycle_event === "cli" && process.env.INIT_CWD) return process.env.INIT_CWD;
  return process.cwd();
}

export function resolveUserPath(path: string): string {
  return isAbsolute(path) ? path : resolve(userDirectory(), path);
}

/** The .dev.vars file `npm run dev` reads. */
export const DEFAULT_DEV_VARS = resolve(PROJECT_ROOT, ".dev.vars");
