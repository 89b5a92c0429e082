// The `clients` commands that register, change, inspect and remove a client (its keys, a jwks_uri or a federated
// trust): add, update, show, list, disable, enable, remove (the key and token commands live in their own files and
// are listed here). Every input is validated before the store is read or written. With operator credentials (flags or
// environment) they go through the management API; without, through the KV registry (the bootstrap path).
import type { ClientRecord } from "../../../src/registry/record";
import { CliError } from "../cli-error";
import {
  CLIENT_RECORD_HELP,
  CLIENT_RECORD_OPTIONS,
  checkClientId,
  checkRecordFlags,
  clientRecordFrom,
  recordPatchFrom,
} from "../client-record-options";
import { booleanOption, type Command, type OptionValues, stringOption } from "../command-line";
import {
  checkFederationFlags,
  describeTrust,
  FEDERATION_HELP,
  FEDERATION_OPTIONS,
  federatedTrustFrom,
} from "../federation-options";
import { readPublicKeyFile } from "../public-key-file";
import { CLIENT_STORE_HELP, CLIENT_STORE_OPTIONS, type ClientStore, clientStoreFrom } from "../stores/client-store";
import { resolveUserPath } from "../user-paths";
import { clientKeyCommands, kidList } from "./client-key-commands";
import { clientTokenCommands } from "./client-token-commands";

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export interface Registration {
  replaced: boolean;
  record: Record<string, unknown>;
  keyCount: number;
}

/**
 * Where a new client's keys come from: a key file (inline keys) or a URL the client publishes them at; null for a
 * federated-only client, which has no key of its own.
 */
export type KeySource = { path: string; label?: string } | { uri: string } | null;

/**
 * `clients add`, as a function the demo reuses: reads and validates the keys, the federated trust (the --federated-*
 * flags in `values`) and the other flags first, then creates the client, or replaces the record of an existing one.
 */
export async function registerClient(
  store: ClientStore,
  clientId: string,
  source: KeySource,
  values: OptionValues,
): Promise<Registration> {
  checkClientId("clients add", clientId);
  checkRecordFlags("clients add", values);
  checkFederationFlags("clients add", values);
  if (source === null && stringOption(values, "federated-issuer") === undefined)
    throw new CliError("usage", "clients add: a client without a key needs a federated trust (--federated-issuer)");
  const keys =
    source === null
      ? null
      : "uri" in source
        ? source.uri
        : await readPublicKeyFile(source.path, source.label ?? source.path);
  const trust = await federatedTrustFrom("clients add", values);
  const record = clientRecordFrom(clientId, keys, values, trust);
  const replaced = (await store.load(clientId)) !== null;
  const saved = await store.apply(clientId, { kind: replaced ? "replace" : "create", record });
  return { replaced, record: saved ?? record, keyCount: Array.isArray(keys) ? keys.length : 0 };
}

/** What `clients add` reports of a record's keys and trusts: "2 keys [...]", "keys at <uri>", "no key, trusts ...". */
function credentialText(record: Record<string, unknown>): string {
  const keys = (record.jwks as { keys?: never[] } | undefined)?.keys;
  const parts = [
    Array.isArray(keys)
      ? `${keys.length} key${keys.length === 1 ? "" : "s"} [${kidList(keys)}]`
      : typeof record.jwks_uri === "string"
        ? `keys at ${record.jwks_uri}`
        : "no key",
  ];
  const trusts = record.federation as Array<{ issuer: string; subject: string }> | undefined;
  if (Array.isArray(trusts)) parts.push(...trusts.map(describeTrust));
  return parts.join(", ");
}

const clientsAdd: Command = {
  name: "clients add",
  summary:
    "Register a client with its public key(s) or a federated trust; replaces the record of an existing client_id.",
  usage:
    'clients add <client_id> (--jwks <file> | --jwks-uri <url> | --federated-issuer <url> --federated-subject <sub> [federation options]) [--scope "a b"] [--default-scope "a"] [--audience <uri>]... [--token-ttl <s>] [--name <text>] [--disabled] [--legacy-audience] [--dpop-bound] [--introspect] [--rate-limit <n>/<s>] [store options]',
  positionals: ["client_id"],
  options: {
    jwks: { type: "string" },
    "jwks-uri": { type: "string" },
    ...FEDERATION_OPTIONS,
    ...CLIENT_RECORD_OPTIONS,
    ...CLIENT_STORE_OPTIONS,
  },
  help: `Keys (one of; none for a federated-only client, one given with --federated-issuer):
  --jwks <file>          one public JWK, a JWK Set, or PEM public key(s) (SPKI, as \`openssl pkey -pubout\` writes).
                         Keys without a kid get their RFC 7638 thumbprint. Refused: private key material,
                         symmetric (oct) keys, RSA under 2048 bits, unknown key types or curves, two keys of one
                         type sharing a kid.
  --jwks-uri <url>       an https URL where the client publishes its JWK Set; the service fetches it (the
                         client then rotates keys there, not with add-key / retire-key)

${FEDERATION_HELP}

${CLIENT_RECORD_HELP}

${CLIENT_STORE_HELP}

Example:
  npm run cli -- clients add acme --jwks acme.public.pem --scope "orders.read orders.write" --audience https://api.example.com
  npm run cli -- clients add deployer --federated-issuer https://token.actions.githubusercontent.com \\
    --federated-subject repo:octo-org/app:ref:refs/heads/main --federated-claim repository_owner_id=65432 --scope deploy`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    const jwks = stringOption(values, "jwks");
    const jwksUri = stringOption(values, "jwks-uri");
    if (jwks !== undefined && jwksUri !== undefined)
      throw new CliError("usage", `${this.name}: choose one of --jwks and --jwks-uri`);
    checkFederationFlags(this.name, values);
    if (!jwks && !jwksUri && stringOption(values, "federated-issuer") === undefined) {
      throw new CliError(
        "usage",
        `${this.name}: --jwks <file> or --jwks-uri <url> is required (or --federated-issuer <url> for a federated client)`,
      );
    }
    checkClientId(this.name, clientId);
    checkRecordFlags(this.name, values);
    const store = await clientStoreFrom(this.name, values);
    const source: KeySource =
      jwks !== undefined
        ? { path: resolveUserPath(jwks), label: jwks }
        : jwksUri !== undefined
          ? { uri: jwksUri }
          : null;
    const { replaced, record } = await registerClient(store, clientId, source, values);
    const scopes = (record.scopes as string[]).join(" ") || "(none)";
    say(
      `${replaced ? "Replaced the existing record of" : "Added"} client ${JSON.stringify(clientId)} in ${store.where}: ` +
        `${record.status}, ${credentialText(record)}, scopes ${scopes}.`,
    );
  },
};

const clientsUpdate: Command = {
  name: "clients update",
  summary: "Change some fields of a client's record, keeping the others (and its keys).",
  usage:
    'clients update <client_id> [--scope "a b"] [--default-scope "a"] [--audience <uri>]... [--token-ttl <s>] [--name <text>] [--legacy-audience | --no-legacy-audience] [--dpop-bound | --no-dpop-bound] [--introspect | --no-introspect] [--rate-limit <n>/<s> | --no-rate-limit] [--federated-issuer <url> --federated-subject <sub> [federation options] | --no-federation] [store options]',
  positionals: ["client_id"],
  options: {
    ...CLIENT_RECORD_OPTIONS,
    ...FEDERATION_OPTIONS,
    "no-legacy-audience": { type: "boolean" },
    "no-dpop-bound": { type: "boolean" },
    "no-introspect": { type: "boolean" },
    "no-rate-limit": { type: "boolean" },
    "no-federation": { type: "boolean" },
    ...CLIENT_STORE_OPTIONS,
  },
  help: `Each field given replaces that field; fields not given stay as they are (a JSON merge patch through the
management API). --disabled is not accepted here: use \`clients disable\`. The --federated-* flags describe one
trust, which replaces all of the client's trusts (the federation list), as --scope replaces all of its scopes.

${CLIENT_RECORD_HELP}
  --no-legacy-audience   accept only the issuer as assertion aud again
  --no-dpop-bound        accept token requests without a DPoP proof again (Bearer tokens)
  --no-introspect        refuse the client at the introspection endpoint again
  --no-rate-limit        remove the client's rate limit

${FEDERATION_HELP}
  --no-federation                            remove every trust of the client (refused if it has no key)

${CLIENT_STORE_HELP}

Example:
  npm run cli -- clients update acme --scope "orders.read" --rate-limit 100/60`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    checkRecordFlags(this.name, values);
    if (booleanOption(values, "disabled"))
      throw new CliError("usage", `${this.name}: use clients disable, not --disabled`);
    checkFederationFlags(this.name, values);
    const trust = await federatedTrustFrom(this.name, values);
    const patch = recordPatchFrom(this.name, values, trust);
    if (Object.keys(patch).length === 0) throw new CliError("usage", `${this.name}: name at least one field to change`);
    const store = await clientStoreFrom(this.name, values);
    const saved = await store.apply(clientId, { kind: "patch", patch });
    const version = typeof saved?.version === "number" ? ` (version ${saved.version})` : "";
    say(`Updated ${Object.keys(patch).join(", ")} of client ${JSON.stringify(clientId)} in ${store.where}${version}.`);
  },
};

const clientsList: Command = {
  name: "clients list",
  summary: "List the registered clients.",
  usage: "clients list [--json] [store options]",
  positionals: [],
  options: { json: { type: "boolean" }, ...CLIENT_STORE_OPTIONS },
  help: `Options:
  --json   print a JSON array instead of a table (the stored records, from the registry)

${CLIENT_STORE_HELP}

Through the management API the list comes from KV's replica, which can trail a change by up to a minute; each
client's own record (\`clients show\`) is always current.

Example:
  npm run cli -- clients list`,
  async run({ values }) {
    const store = await clientStoreFrom(this.name, values);
    const clients = await store.list();
    if (booleanOption(values, "json")) {
      const rows = clients.map((c) =>
        c.client
          ? (c.client.stored ?? { client_id: c.clientId, invalid: c.client.problem })
          : { client_id: c.clientId, status: c.status, version: c.version },
      );
      say(JSON.stringify(rows, null, 2));
      return;
    }
    if (clients.length === 0) {
      say(`No clients in ${store.where}.`);
      return;
    }
    const rows = [["CLIENT_ID", "STATUS", "VERSION", "KEYS", "SCOPES", "NAME"]];
    for (const { clientId, status, version, client } of clients) {
      const record: ClientRecord | null | undefined = client?.record;
      rows.push([
        clientId,
        client && !record ? "INVALID" : (status ?? "-"),
        version === null ? "-" : String(version),
        record ? (record.jwks ? String(record.jwks.keys.length) : record.jwks_uri ? "uri" : "federated") : "-",
        record ? record.scopes.join(" ") || "-" : "-",
        record ? (record.name ?? "") : client ? `(${client.problem})` : "",
      ]);
    }
    say(table(rows));
  },
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const clientsShow: Command = {
  name: "clients show",
  summary: "Print a client's record as JSON: the authoritative one through the management API, else KV's.",
  usage: "clients show <client_id> [store options]",
  positionals: ["client_id"],
  options: { ...CLIENT_STORE_OPTIONS },
  help: `${CLIENT_STORE_HELP}

Exits 1 if the client does not exist, or if its record is one the Worker would refuse (the record is still printed
when it is JSON). Through the management API the record is the client's authority's, with its version; from the
registry it is KV's replica, which can trail a change by up to a minute.

Example:
  npm run cli -- clients show acme
  TOKEN_SERVICE_ADMIN_KEY=ops.private.jwk TOKEN_SERVICE_ADMIN_CLIENT_ID=ops npm run cli -- clients show acme`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const store = await clientStoreFrom(this.name, values);
    const client = await store.load(clientId);
    if (client === null)
      throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${store.where}`);
    if (client.stored !== null) say(JSON.stringify(client.stored, null, 2));
    if (client.problem !== null) {
      throw new CliError(
        "record_invalid",
        `the stored record of ${JSON.stringify(clientId)} is invalid: ${client.problem}`,
      );
    }
  },
};

function statusCommand(status: "active" | "disabled"): Command {
  const verb = status === "active" ? "enable" : "disable";
  return {
    name: `clients ${verb}`,
    summary:
      status === "active"
        ? "Enable a disabled client: it can get tokens again."
        : "Disable a client: its assertions are refused until it is enabled; the record and keys stay.",
    usage: `clients ${verb} <client_id> [store options]`,
    positionals: ["client_id"],
    options: { ...CLIENT_STORE_OPTIONS },
    help: `${CLIENT_STORE_HELP}

Through the management API the change holds from the client's next token request, everywhere. Through the registry
(a client no authority holds yet), a running Worker may serve a cached record for up to CLIENT_CACHE_TTL seconds.

Example:
  npm run cli -- clients ${verb} acme --admin-key ops.private.jwk --admin-client-id ops --issuer https://auth.example.com`,
    async run({ values, positionals }) {
      const clientId = positionals[0]!;
      checkClientId(this.name, clientId);
      const store = await clientStoreFrom(this.name, values);
      const current = await store.load(clientId);
      if (current === null)
        throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${store.where}`);
      if (current.record?.status === status) {
        say(`Client ${JSON.stringify(clientId)} is already ${status}; nothing changed.`);
        return;
      }
      await store.apply(clientId, { kind: "status", status });
      const when = store.authoritative ? ", effective on its next token request" : "";
      say(`Client ${JSON.stringify(clientId)} is now ${status} in ${store.where}${when}.`);
    },
  };
}

const clientsRemove: Command = {
  name: "clients remove",
  summary: "Delete a client: it can no longer authenticate.",
  usage: "clients remove <client_id> [store options]",
  positionals: ["client_id"],
  options: { ...CLIENT_STORE_OPTIONS },
  help: `${CLIENT_STORE_HELP}

Through the management API the record, its retired keys and its rate-limit budget go at once; the jtis it spent
stay spent until they expire, so an assertion used before the removal is still refused if the client is added again.
To stop a client temporarily, prefer \`clients disable\`, which keeps its keys.

Example:
  npm run cli -- clients remove acme`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const store = await clientStoreFrom(this.name, values);
    if ((await store.load(clientId)) === null) {
      throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${store.where}`);
    }
    await store.apply(clientId, { kind: "delete" });
    say(`Removed client ${JSON.stringify(clientId)} from ${store.where}.`);
  },
};

export const clientsCommands: Command[] = [
  clientsAdd,
  clientsUpdate,
  clientsList,
  clientsShow,
  statusCommand("disabled"),
  statusCommand("active"),
  clientsRemove,
  ...clientKeyCommands,
  ...clientTokenCommands,
];
