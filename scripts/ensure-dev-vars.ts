// Runs before `npm run dev`: makes sure `.dev.vars` holds a SIGNING_KEYS secret for local development,
// generating a fresh key when it is missing. Never overwrites an existing key; `.dev.vars` is git-ignored.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { newSigningKeySet } from "./lib/signing-keys";

const path = resolve(process.argv[2] ?? ".dev.vars");
const current = existsSync(path) ? readFileSync(path, "utf8") : "";
if (/^SIGNING_KEYS\s*=/m.test(current)) process.exit(0);

const keys = await newSigningKeySet("ES256");
const line = `SIGNING_KEYS='${JSON.stringify(keys)}'\n`;
const prefix = current === "" || current.endsWith("\n") ? current : `${current}\n`;
writeFileSync(path, prefix + line, { mode: 0o600 });
console.log(`Wrote a new local signing key to ${path} (kid ${keys.keys[0]!.kid}).`);
