// The `clients` commands for a client's keys: add-key and retire-key (rotation without downtime) and restore-key.
// Inputs are validated before the store is read or written; the change itself is computed by the Worker's own rules,
// here (the registry) or in the client's authority (the management API).
import type { ClientJwk } from "../../../src/protocol/jwk";
import { CliError } from "../cli-error";
import { checkClientId } from "../client-record-options";
import { type Command, requiredStringOption } from "../command-line";
import { readPublicKeyFile } from "../public-key-file";
import { CLIENT_STORE_HELP, CLIENT_STORE_OPTIONS, clientStoreFrom } from "../stores/client-store";
import { resolveUserPath } from "../user-paths";

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** "kid (kty crv), …" for messages. */
export function kidList(keys: ReadonlyArray<Pick<ClientJwk, "kid" | "kty" | "crv">>): string {
  return keys.map((k) => `${k.kid ?? "(no kid)"} (${k.kty}${k.crv ? ` ${k.crv}` : ""})`).join(", ");
}

function inlineKeyCount(record: Record<string, unknown> | null): number {
  const keys = (record?.jwks as { keys?: unknown[] } | undefined)?.keys;
  return Array.isArray(keys) ? keys.length : 0;
}

const clientsAddKey: Command = {
  name: "clients add-key",
  summary: "Add public key(s) to a client, keeping its current keys (first step of a key rotation).",
  usage: "clients add-key <client_id> --jwks <file> [store options]",
  positionals: ["client_id"],
  options: { jwks: { type: "string" }, ...CLIENT_STORE_OPTIONS },
  help: `Options:
  --jwks <file>   the new key(s): a public JWK, a JWK Set or PEM public key(s), checked as in \`clients add\`

Rotation without downtime: add the new key, move the client to signing with it, then
\`clients retire-key <client_id> --kid <old kid>\`. A key already registered for the client is refused, and so is a
client whose keys live at a jwks_uri (it rotates them there).

${CLIENT_STORE_HELP}

Example:
  npm run cli -- clients add-key acme --jwks acme-2026.public.jwk`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const jwksPath = requiredStringOption(this, values, "jwks");
    const added = await readPublicKeyFile(resolveUserPath(jwksPath), jwksPath);
    const store = await clientStoreFrom(this.name, values);
    const saved = await store.apply(clientId, { kind: "add_keys", keys: added });
    say(
      `Added ${kidList(added)} to client ${JSON.stringify(clientId)} in ${store.where}; it now has ${inlineKeyCount(saved)} keys.`,
    );
  },
};

const clientsRetireKey: Command = {
  name: "clients retire-key",
  summary: "Retire one key of a client (last step of a key rotation); the last inline key is never retired.",
  usage: "clients retire-key <client_id> --kid <kid> [store options]",
  positionals: ["client_id"],
  options: { kid: { type: "string" }, ...CLIENT_STORE_OPTIONS },
  help: `Options:
  --kid <kid>             the key to retire (see \`clients show\`); every key with that kid is retired

An inline key leaves the record. For a client whose keys live at a jwks_uri the kid is listed as retired and
refused even while the client still publishes it (\`clients restore-key\` lifts that). Refuses to remove a client's
last inline key: add its replacement first (\`clients add-key\`), or disable the client.

${CLIENT_STORE_HELP}

Through the management API the key is refused from the client's next token request on, everywhere, and admin tokens
the key obtained stop working at once.

Example:
  npm run cli -- clients retire-key acme --kid NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const kid = requiredStringOption(this, values, "kid");
    const store = await clientStoreFrom(this.name, values);
    const saved = await store.apply(clientId, { kind: "retire_key", kid });
    const count = inlineKeyCount(saved);
    const left =
      saved?.jwks_uri !== undefined
        ? "its jwks_uri may still publish it"
        : `${count} key${count === 1 ? "" : "s"} left`;
    const when = store.authoritative ? ", effective on its next token request" : "";
    say(`Retired key ${kid} of client ${JSON.stringify(clientId)} in ${store.where}${when}; ${left}.`);
  },
};

const clientsRestoreKey: Command = {
  name: "clients restore-key",
  summary: "Lift the retirement of a kid a jwks_uri client still publishes.",
  usage: "clients restore-key <client_id> --kid <kid> [store options]",
  positionals: ["client_id"],
  options: { kid: { type: "string" }, ...CLIENT_STORE_OPTIONS },
  help: `Options:
  --kid <kid>   a kid listed in the client's retired_kids

An inline key, once retired, is gone from the record: add it again with \`clients add-key\` instead.

${CLIENT_STORE_HELP}

Example:
  npm run cli -- clients restore-key partner --kid 2026-03`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const kid = requiredStringOption(this, values, "kid");
    if (kid === "") throw new CliError("usage", `${this.name}: --kid needs a value`);
    const store = await clientStoreFrom(this.name, values);
    await store.apply(clientId, { kind: "restore_key", kid });
    say(`Restored key ${kid} of client ${JSON.stringify(clientId)} in ${store.where}.`);
  },
};

export const clientKeyCommands: Command[] = [clientsAddKey, clientsRetireKey, clientsRestoreKey];
