// `npm run dev` runs scripts/ensure-dev-vars.ts first: it must leave .dev.vars with the local secrets the Worker
// needs (SIGNING_KEYS, and DPOP_NONCE_SECRET for DPOP_NONCE=required), add only what is missing, and never print one.
import { execFile } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/protocol/constants";
import { PROJECT_ROOT, temporaryFolder } from "./support";

const run = promisify(execFile);
const SCRIPT = join(PROJECT_ROOT, "scripts/ensure-dev-vars.ts");
const TSX = join(PROJECT_ROOT, "node_modules/.bin/tsx");

let folder: Awaited<ReturnType<typeof temporaryFolder>>;
beforeEach(async () => {
  folder = await temporaryFolder("dev-vars-");
});
afterEach(() => folder.remove());

/** The name=value lines of a .dev.vars file, quotes removed. */
function varsOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => {
        const at = line.indexOf("=");
        return [line.slice(0, at), line.slice(at + 1).replace(/^'(.*)'$/, "$1")];
      }),
  );
}

describe("ensure-dev-vars", () => {
  it("writes a signing key and a DPoP nonce secret long enough for the Worker, private to the user, printing neither", async () => {
    const path = join(folder.path, ".dev.vars");
    const { stdout } = await run(TSX, [SCRIPT, path]);
    const vars = varsOf(await readFile(path, "utf8"));
    expect(Object.keys(vars).sort()).toEqual(["DPOP_NONCE_SECRET", "SIGNING_KEYS"]);
    expect(stdout).toMatch(
      /^Wrote a new local signing key \(kid [\w-]+\) and a DPoP nonce secret to .*\.dev\.vars\.\n$/,
    );
    expect(stdout).not.toContain(vars.DPOP_NONCE_SECRET);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // What config.ts asks of the secret: at least this long (32 random bytes, base64url, are 43 characters).
    expect(vars.DPOP_NONCE_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(vars.DPOP_NONCE_SECRET!.length).toBeGreaterThanOrEqual(LIMITS.minDpopNonceSecretLength);
  });

  it("adds only what is missing and leaves every other line as it was", async () => {
    const path = join(folder.path, ".dev.vars");
    await writeFile(path, "SIGNING_KEYS='{\"keys\":[]}'\nOTHER=1", { mode: 0o600 });
    const { stdout } = await run(TSX, [SCRIPT, path]);
    expect(stdout).toMatch(/^Wrote a DPoP nonce secret to /);
    const text = await readFile(path, "utf8");
    expect(text.startsWith("SIGNING_KEYS='{\"keys\":[]}'\nOTHER=1\nDPOP_NONCE_SECRET=")).toBe(true);
    const again = await run(TSX, [SCRIPT, path]);
    expect(again.stdout).toBe("");
    expect(await readFile(path, "utf8")).toBe(text);
  });
});
