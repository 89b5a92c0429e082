// Runs before `npm run dev`: makes sure `.dev.vars` holds the local secrets: SIGNING_KEYS (a fresh ES256 key) and
// DPOP_NONCE_SECRET (32 random bytes, used when DPOP_NONCE=required), generating each one that is missing. Never
// overwrites a line already there and never prints a secret; `.dev.vars` is git-ignored and kept at mode 0600.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { newSigningKeySet } from "./lib/signing-keys";

const path = resolve(process.argv[2] ?? ".dev.vars");
const current = existsSync(path) ? readFileSync(path, "utf8") : "";
const has = (name: string) => new RegExp(`^[ \\t]*${name}[ \\t]*=`, "m").test(current);

const lines: string[] = [];
const notes: string[] = [];
if (!has("SIGNING_KEYS")) {
  const keys = await newSigningKeySet("ES256");
  lines.push(`SIGNING_KEYS='${JSON.stringify(keys)}'`);
  notes.push(`a new local signing key (kid ${keys.keys[0]!.kid})`);
}
if (!has("DPOP_NONCE_SECRET")) {
  lines.push(`DPOP_NONCE_SECRET=${randomBytes(32).toString("base64url")}`);
  notes.push("a DPoP nonce secret");
}
if (lines.length > 0) {
  const prefix = current === "" || current.endsWith("\n") ? current : `${current}\n`;
  writeFileSync(path, `${prefix}${lines.join("\n")}\n`, { mode: 0o600 });
  console.log(`Wrote ${notes.join(" and ")} to ${path}.`);
}
