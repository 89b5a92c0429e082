// Reads and updates the SIGNING_KEYS line of a .dev.vars file (the local secrets `wrangler dev` loads),
// leaving every other line as it was. The file is replaced atomically and stays private (0600).

import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { CliError } from "./cli-error";

const SIGNING_KEYS_LINE = /^[ \t]*SIGNING_KEYS[ \t]*=[ \t]*(.*)$/m;

function unquote(value: string): string {
  const trimmed = value.trim();
  const quote = trimmed[0];
  if ((quote === "'" || quote === '"') && trimmed.endsWith(quote) && trimmed.length >= 2) return trimmed.slice(1, -1);
  return trimmed;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(
      "input_invalid",
      code === "ENOENT"
        ? `${path} does not exist (run npm run dev once, or pass --from)`
        : `cannot read ${path}: ${code}`,
    );
  }
}

/** The SIGNING_KEYS value in a .dev.vars file. */
export async function readDevVarsSigningKeys(path: string): Promise<string> {
  const match = SIGNING_KEYS_LINE.exec(await readText(path));
  if (!match) throw new CliError("input_invalid", `${path} has no SIGNING_KEYS line`);
  return unquote(match[1]!);
}

/** Replaces the SIGNING_KEYS line with `value` (a JSON string without single quotes). */
export async function writeDevVarsSigningKeys(path: string, value: string): Promise<void> {
  const current = await readText(path);
  if (!SIGNING_KEYS_LINE.test(current)) throw new CliError("input_invalid", `${path} has no SIGNING_KEYS line`);
  const next = current.replace(SIGNING_KEYS_LINE, () => `SIGNING_KEYS='${value}'`);
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temporary, next, { mode: 0o600, flag: "wx" });
  await rename(temporary, path);
}
