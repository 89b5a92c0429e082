// `signing-key generate` and `signing-key rotate`: produce the service's SIGNING_KEYS secret (a private JWK Set,
// active key first). The value goes to stdout, or into .dev.vars with --in-place; notes go to stderr.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseSigningKeys } from "../../../src/issuer/signing-keys";
import { TokenServiceError } from "../../../src/protocol/errors";
import { CliError } from "../cli-error";
import { booleanOption, type Command, stringOption } from "../command-line";
import { readDevVarsSigningKeys, writeDevVarsSigningKeys } from "../dev-vars";
import {
  isSigningKeyAlgorithm,
  newSigningKeySet,
  rotateSigningKeySet,
  SIGNING_KEY_ALGORITHMS,
  type SigningKeyAlgorithm,
} from "../signing-keys";
import { DEFAULT_DEV_VARS, resolveUserPath } from "../user-paths";

/** Previous keys kept published by default: tokens they signed (at most ACCESS_TOKEN_TTL old) still verify. */
const DEFAULT_KEEP = 2;
/** More retained keys only lengthens the JWKS every resource server downloads. */
const MAX_KEEP = 10;

function algorithmOption(commandName: string, value: string | undefined): SigningKeyAlgorithm | undefined {
  if (value === undefined) return undefined;
  if (!isSigningKeyAlgorithm(value))
    throw new CliError("usage", `${commandName}: --alg must be one of ${SIGNING_KEY_ALGORITHMS.join(", ")}`);
  return value;
}

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

const signingKeyGenerate: Command = {
  name: "signing-key generate",
  summary: "Print a new SIGNING_KEYS value (one private key) for `wrangler secret put SIGNING_KEYS`.",
  usage: `signing-key generate [--alg ${SIGNING_KEY_ALGORITHMS.join("|")}]`,
  positionals: [],
  options: { alg: { type: "string" } },
  help: `Options:
  --alg <alg>   algorithm of the access-token signing key (default ES256)

Prints the secret's value (a JWK Set holding one private key, kid = RFC 7638 thumbprint) on stdout and
nothing else there, so it can be piped. It is a secret: do not paste it into files that are committed.

Example:
  npm run --silent cli -- signing-key generate | npx wrangler secret put SIGNING_KEYS`,
  async run({ values }) {
    const alg = algorithmOption(this.name, stringOption(values, "alg")) ?? "ES256";
    const set = await newSigningKeySet(alg);
    process.stdout.write(`${JSON.stringify(set)}\n`);
    note(`New ${alg} signing key, kid ${set.keys[0]!.kid}. Store it with: wrangler secret put SIGNING_KEYS`);
  },
};

function checkedSet(raw: string, source: string): { keys: Array<Record<string, unknown>> } {
  try {
    parseSigningKeys(raw);
  } catch (err) {
    if (err instanceof TokenServiceError) throw new CliError("input_invalid", `${source}: ${err.detail ?? err.reason}`);
    throw err;
  }
  return JSON.parse(raw) as { keys: Array<Record<string, unknown>> };
}

const signingKeyRotate: Command = {
  name: "signing-key rotate",
  summary: "Add a new active signing key in front of the current ones (previous keys kept for verification).",
  usage: "signing-key rotate [--from <file> | --dev-vars <file>] [--in-place] [--alg <alg>] [--keep N]",
  positionals: [],
  options: {
    from: { type: "string" },
    "dev-vars": { type: "string" },
    "in-place": { type: "boolean" },
    alg: { type: "string" },
    keep: { type: "string" },
  },
  help: `Input (the current SIGNING_KEYS value):
  --from <file>       a file holding the current value (a JWK Set); "-" reads stdin
  --dev-vars <file>   the .dev.vars file to read (default: .dev.vars in the project root)

Output:
  (default)           print the new value on stdout, for \`wrangler secret put SIGNING_KEYS\`
  --in-place          write it back into the .dev.vars file instead (local development); a running
                      \`npm run dev\` loads it when restarted

Options:
  --alg <alg>         algorithm of the new key (default: that of the current active key)
  --keep N            previous keys to keep after the new one (default ${DEFAULT_KEEP}, at most ${MAX_KEEP}); older
                      keys are dropped, and tokens they signed stop verifying

Examples:
  npm run cli -- signing-key rotate --in-place
  npm run --silent cli -- signing-key rotate --from current-signing-keys.json | npx wrangler secret put SIGNING_KEYS`,
  async run({ values }) {
    const from = stringOption(values, "from");
    const devVarsOption = stringOption(values, "dev-vars");
    const inPlace = booleanOption(values, "in-place");
    if (from !== undefined && devVarsOption !== undefined) {
      throw new CliError("usage", `${this.name}: choose one input, --from or --dev-vars`);
    }
    if (from !== undefined && inPlace) {
      throw new CliError(
        "usage",
        `${this.name}: --in-place rewrites the .dev.vars file it read; it does not combine with --from`,
      );
    }
    const requestedAlg = algorithmOption(this.name, stringOption(values, "alg"));
    const keepText = stringOption(values, "keep") ?? String(DEFAULT_KEEP);
    if (!/^[0-9]+$/.test(keepText) || Number(keepText) > MAX_KEEP) {
      throw new CliError("usage", `${this.name}: --keep must be a whole number from 0 to ${MAX_KEEP}`);
    }

    const devVars = devVarsOption === undefined ? DEFAULT_DEV_VARS : resolveUserPath(devVarsOption);
    let raw: string;
    let source: string;
    if (from === undefined) {
      raw = await readDevVarsSigningKeys(devVars);
      source = `SIGNING_KEYS in ${devVars}`;
    } else {
      source = from === "-" ? "stdin" : from;
      try {
        raw = (from === "-" ? readFileSync(0, "utf8") : await readFile(resolveUserPath(from), "utf8")).trim();
      } catch (err) {
        throw new CliError("input_invalid", `cannot read ${source}: ${(err as { code?: string }).code ?? "error"}`);
      }
    }
    const current = checkedSet(raw, source);
    const activeAlg = current.keys[0]!.alg as string;
    const alg = requestedAlg ?? (isSigningKeyAlgorithm(activeAlg) ? activeAlg : "ES256");
    const next = await rotateSigningKeySet(current as never, alg, Number(keepText));
    const value = JSON.stringify(next);
    const kids = next.keys.map((k) => k.kid).join(", ");
    if (inPlace) {
      await writeDevVarsSigningKeys(devVars, value);
      process.stdout.write(
        `Rotated SIGNING_KEYS in ${devVars}: new active ${alg} key ${next.keys[0]!.kid}; published keys: ${kids}.\n`,
      );
      return;
    }
    process.stdout.write(`${value}\n`);
    note(
      `New active ${alg} key ${next.keys[0]!.kid}; published keys: ${kids}. Store it with: wrangler secret put SIGNING_KEYS`,
    );
  },
};

export const signingKeyCommands: Command[] = [signingKeyGenerate, signingKeyRotate];
