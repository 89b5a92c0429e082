// The `clients` commands: register, inspect, disable, enable and remove clients, and add or retire one key
// (rotation without downtime). Every input is validated before the registry is read or written. With
// --admin-key, disable, enable, retire-key and show go through the running service's admin API instead.
import { calculateJwkThumbprint, type JWK } from "jose";
import type { ClientJwk } from "../../../src/protocol/jwk";
import type { ClientRecord } from "../../../src/registry/record";
import { openAdminSession } from "../admin-client";
import { ADMIN_TARGET_HELP, ADMIN_TARGET_OPTIONS, adminTargetFrom } from "../admin-target";
import { CliError } from "../cli-error";
import {
  CLIENT_RECORD_HELP,
  CLIENT_RECORD_OPTIONS,
  checkClientId,
  checkRecordFlags,
  clientRecordFrom,
} from "../client-record-options";
import {
  checkRecord,
  deleteClient,
  listClients,
  loadClient,
  loadValidClient,
  type StoredClient,
  saveClient,
} from "../client-store";
import { booleanOption, type Command, type OptionValues, requiredStringOption, stringOption } from "../command-line";
import { readPublicKeyFile } from "../public-key-file";
import {
  describeTarget,
  REGISTRY_TARGET_HELP,
  REGISTRY_TARGET_OPTIONS,
  type RegistryTarget,
  registryTargetFrom,
} from "../registry-target";
import { resolveUserPath } from "../user-paths";

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function kidList(keys: ClientJwk[]): string {
  return keys.map((k) => `${k.kid ?? "(no kid)"} (${k.kty}${k.crv ? ` ${k.crv}` : ""})`).join(", ");
}

export interface Registration {
  replaced: boolean;
  record: Record<string, unknown>;
  keys: ClientJwk[];
}

/** Where a new client's keys come from: a key file (inline keys) or a URL the client publishes them at. */
export type KeySource = { path: string; label?: string } | { uri: string };

/**
 * `clients add`, as a function the demo reuses: reads and validates the keys and the record first, then writes
 * (overwriting any record of that client_id).
 */
export async function registerClient(
  target: RegistryTarget,
  clientId: string,
  source: KeySource,
  values: OptionValues,
): Promise<Registration> {
  checkClientId("clients add", clientId);
  checkRecordFlags("clients add", values);
  const keys = "uri" in source ? source.uri : await readPublicKeyFile(source.path, source.label ?? source.path);
  const record = clientRecordFrom(clientId, keys, values);
  checkRecord(record);
  const replaced = (await loadClient(target, clientId)) !== null;
  await saveClient(target, record);
  return { replaced, record, keys: typeof keys === "string" ? [] : keys };
}

const clientsAdd: Command = {
  name: "clients add",
  summary: "Register a client with its public key(s); replaces an existing record of that client_id.",
  usage:
    'clients add <client_id> (--jwks <file> | --jwks-uri <url>) [--scope "a b"] [--default-scope "a"] [--audience <uri>]... [--token-ttl <s>] [--name <text>] [--disabled] [--legacy-audience] [--rate-limit <n>/<s>] [--remote | --persist-to <dir>]',
  positionals: ["client_id"],
  options: {
    jwks: { type: "string" },
    "jwks-uri": { type: "string" },
    ...CLIENT_RECORD_OPTIONS,
    ...REGISTRY_TARGET_OPTIONS,
  },
  help: `Keys (one of):
  --jwks <file>          one public JWK, a JWK Set, or PEM public key(s) (SPKI, as \`openssl pkey -pubout\` writes).
                         Keys without a kid get their RFC 7638 thumbprint. Refused: private key material,
                         symmetric (oct) keys, RSA under 2048 bits, unknown key types or curves, two keys of one
                         type sharing a kid.
  --jwks-uri <url>       an https URL where the client publishes its JWK Set; the service fetches it (the
                         client then rotates keys there, not with add-key / retire-key)

${CLIENT_RECORD_HELP}

${REGISTRY_TARGET_HELP}

Example:
  npm run cli -- clients add acme --jwks acme.public.pem --scope "orders.read orders.write" --audience https://api.example.com`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    const jwks = stringOption(values, "jwks");
    const jwksUri = stringOption(values, "jwks-uri");
    if (jwks !== undefined && jwksUri !== undefined)
      throw new CliError("usage", `${this.name}: choose one of --jwks and --jwks-uri`);
    if (!jwks && !jwksUri) throw new CliError("usage", `${this.name}: --jwks <file> or --jwks-uri <url> is required`);
    const target = registryTargetFrom(this.name, values);
    const source: KeySource = jwks ? { path: resolveUserPath(jwks), label: jwks } : { uri: jwksUri! };
    const { replaced, record, keys } = await registerClient(target, clientId, source, values);
    const scopes = (record.scopes as string[]).join(" ") || "(none)";
    const keyText =
      "uri" in source
        ? `keys at ${source.uri}`
        : `${keys.length} key${keys.length === 1 ? "" : "s"} [${kidList(keys)}]`;
    say(
      `${replaced ? "Replaced the existing record of" : "Added"} client ${JSON.stringify(clientId)} in ${describeTarget(target)}: ` +
        `${record.status}, ${keyText}, scopes ${scopes}.`,
    );
  },
};

function statusLabel(client: StoredClient): string {
  return client.record ? client.record.status : "INVALID";
}

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

const clientsList: Command = {
  name: "clients list",
  summary: "List the registered clients.",
  usage: "clients list [--json] [--remote | --persist-to <dir>]",
  positionals: [],
  options: { json: { type: "boolean" }, ...REGISTRY_TARGET_OPTIONS },
  help: `Options:
  --json   print the stored records as a JSON array instead of a table

${REGISTRY_TARGET_HELP}

Example:
  npm run cli -- clients list`,
  async run({ values }) {
    const target = registryTargetFrom(this.name, values);
    const clients = await listClients(target);
    if (booleanOption(values, "json")) {
      say(
        JSON.stringify(
          clients.map((c) => c.stored ?? { client_id: c.clientId, invalid: c.problem }),
          null,
          2,
        ),
      );
      return;
    }
    if (clients.length === 0) {
      say(`No clients in ${describeTarget(target)}.`);
      return;
    }
    const rows = [["CLIENT_ID", "STATUS", "KEYS", "SCOPES", "NAME"]];
    for (const client of clients) {
      const record = client.record;
      rows.push(
        record
          ? [
              client.clientId,
              record.status,
              record.jwks ? String(record.jwks.keys.length) : "uri",
              record.scopes.join(" ") || "-",
              record.name ?? "",
            ]
          : [client.clientId, statusLabel(client), "-", "-", `(${client.problem})`],
      );
    }
    say(table(rows));
  },
};

const clientsShow: Command = {
  name: "clients show",
  summary: "Print a client's stored record as JSON (with --admin-key: its status and kill switch).",
  usage:
    "clients show <client_id> [--remote | --persist-to <dir> | --admin-key <file> --admin-client-id <id> [--issuer URL]]",
  positionals: ["client_id"],
  options: { ...REGISTRY_TARGET_OPTIONS, ...ADMIN_TARGET_OPTIONS },
  help: `${REGISTRY_TARGET_HELP}

${ADMIN_TARGET_HELP}

Exits 1 if the client does not exist, or if its stored record is one the Worker would refuse (the record is
still printed when it is JSON). With --admin-key it prints what the admin API reports instead:
{client_id, registry_status, kill_switch: {client, kids}}.

Example:
  npm run cli -- clients show acme
  npm run cli -- clients show acme --admin-key ops.private.jwk --admin-client-id ops --issuer https://auth.example.com`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const admin = adminTargetFrom(this.name, values);
    if (admin) {
      const session = await openAdminSession(admin);
      say(JSON.stringify(await session.clientStatus(clientId), null, 2));
      return;
    }
    const target = registryTargetFrom(this.name, values);
    const client = await loadClient(target, clientId);
    if (client === null)
      throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${describeTarget(target)}`);
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
    usage: `clients ${verb} <client_id> [--remote | --persist-to <dir> | --admin-key <file> --admin-client-id <id> [--issuer URL]]`,
    positionals: ["client_id"],
    options: { ...REGISTRY_TARGET_OPTIONS, ...ADMIN_TARGET_OPTIONS },
    help: `${REGISTRY_TARGET_HELP}

${ADMIN_TARGET_HELP}

Through the registry, a running Worker may serve a cached record for up to CLIENT_CACHE_TTL seconds. Through
the admin API the change reaches the client's kill switch and its record at once.

Example:
  npm run cli -- clients ${verb} acme
  npm run cli -- clients ${verb} acme --admin-key ops.private.jwk --admin-client-id ops --issuer https://auth.example.com`,
    async run({ values, positionals }) {
      const clientId = positionals[0]!;
      checkClientId(this.name, clientId);
      const admin = adminTargetFrom(this.name, values);
      if (admin) {
        const session = await openAdminSession(admin);
        await (status === "active" ? session.enableClient(clientId) : session.disableClient(clientId));
        say(
          `Client ${JSON.stringify(clientId)} is now ${status} through the admin API at ${session.issuer}, effective on its next token request.`,
        );
        return;
      }
      const target = registryTargetFrom(this.name, values);
      const { stored, record } = await loadValidClient(target, clientId, describeTarget(target));
      if (record.status === status) {
        say(`Client ${JSON.stringify(clientId)} is already ${status}; nothing changed.`);
        return;
      }
      await saveClient(target, { ...stored, status });
      say(`Client ${JSON.stringify(clientId)} is now ${status} in ${describeTarget(target)}.`);
    },
  };
}

const clientsRemove: Command = {
  name: "clients remove",
  summary: "Delete a client's record: it can no longer authenticate.",
  usage: "clients remove <client_id> [--remote | --persist-to <dir>]",
  positionals: ["client_id"],
  options: { ...REGISTRY_TARGET_OPTIONS },
  help: `${REGISTRY_TARGET_HELP}

To stop a client temporarily, prefer \`clients disable\`, which keeps its keys.

Example:
  npm run cli -- clients remove acme`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const target = registryTargetFrom(this.name, values);
    if ((await loadClient(target, clientId)) === null) {
      throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${describeTarget(target)}`);
    }
    await deleteClient(target, clientId);
    say(`Removed client ${JSON.stringify(clientId)} from ${describeTarget(target)}.`);
  },
};

async function thumbprint(key: unknown): Promise<string> {
  return calculateJwkThumbprint(key as JWK);
}

const clientsAddKey: Command = {
  name: "clients add-key",
  summary: "Add public key(s) to a client, keeping its current keys (first step of a key rotation).",
  usage: "clients add-key <client_id> --jwks <file> [--remote | --persist-to <dir>]",
  positionals: ["client_id"],
  options: { jwks: { type: "string" }, ...REGISTRY_TARGET_OPTIONS },
  help: `Options:
  --jwks <file>   the new key(s): a public JWK, a JWK Set or PEM public key(s), checked as in \`clients add\`

Rotation without downtime: add the new key, move the client to signing with it, then
\`clients retire-key <client_id> --kid <old kid>\`. A key already registered for the client is refused.

${REGISTRY_TARGET_HELP}

Example:
  npm run cli -- clients add-key acme --jwks acme-2026.public.jwk`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const jwksPath = requiredStringOption(this, values, "jwks");
    const target = registryTargetFrom(this.name, values);
    const added = await readPublicKeyFile(resolveUserPath(jwksPath), jwksPath);
    const { stored, record } = await loadValidClient(target, clientId, describeTarget(target));
    const inline = inlineKeysOf(record, clientId);
    const present = new Map<string, string>();
    for (const key of inline) present.set(await thumbprint(key), key.kid ?? "(no kid)");
    for (const key of added) {
      const existing = present.get(await thumbprint(key));
      if (existing !== undefined) {
        throw new CliError(
          "key_refused",
          `${jwksPath}: this key is already registered for ${JSON.stringify(clientId)} (kid ${existing})`,
        );
      }
    }
    const storedJwks = stored.jwks as { keys: unknown[] };
    const next = { ...stored, jwks: { ...storedJwks, keys: [...storedJwks.keys, ...added] } };
    const saved = await saveClient(target, next);
    say(
      `Added ${kidList(added)} to client ${JSON.stringify(clientId)} in ${describeTarget(target)}; it now has ${inlineKeysOf(saved, clientId).length} keys.`,
    );
  },
};

/** The inline keys of a client; a client whose keys live at a jwks_uri rotates them there, not here. */
function inlineKeysOf(record: ClientRecord, clientId: string): ClientJwk[] {
  if (!record.jwks) {
    throw new CliError(
      "input_invalid",
      `client ${JSON.stringify(clientId)} publishes its keys at ${record.jwks_uri}: rotate them there, not in the registry`,
    );
  }
  return record.jwks.keys;
}

const clientsRetireKey: Command = {
  name: "clients retire-key",
  summary: "Remove one public key from a client (last step of a key rotation); the last key is never removed.",
  usage:
    "clients retire-key <client_id> --kid <kid> [--kty RSA|EC|OKP] [--remote | --persist-to <dir> | --admin-key <file> --admin-client-id <id> [--issuer URL]]",
  positionals: ["client_id"],
  options: { kid: { type: "string" }, kty: { type: "string" }, ...REGISTRY_TARGET_OPTIONS, ...ADMIN_TARGET_OPTIONS },
  help: `Options:
  --kid <kid>             the key to retire (see \`clients show\`)
  --kty RSA|EC|OKP        needed only when keys of different types share that kid

Refuses to remove a client's last key: add its replacement first (\`clients add-key\`), or disable the client.

${REGISTRY_TARGET_HELP}

${ADMIN_TARGET_HELP}

Through the admin API the key is refused from the next token request on (its kid goes into the client's kill
switch), and --kty does not apply: every key with that kid is retired.

Example:
  npm run cli -- clients retire-key acme --kid NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs
  npm run cli -- clients retire-key acme --kid NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs --admin-key ops.private.jwk --admin-client-id ops`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const kid = requiredStringOption(this, values, "kid");
    const kty = stringOption(values, "kty");
    if (kty !== undefined && kty !== "RSA" && kty !== "EC" && kty !== "OKP") {
      throw new CliError("usage", `${this.name}: --kty must be RSA, EC or OKP`);
    }
    const admin = adminTargetFrom(this.name, values);
    if (admin) {
      if (kty !== undefined)
        throw new CliError(
          "usage",
          `${this.name}: --kty does not apply with --admin-key (the admin API retires a kid)`,
        );
      const session = await openAdminSession(admin);
      await session.retireKey(clientId, kid);
      say(
        `Retired key ${kid} of client ${JSON.stringify(clientId)} through the admin API at ${session.issuer}, effective on its next token request.`,
      );
      return;
    }
    const target = registryTargetFrom(this.name, values);
    const { stored, record } = await loadValidClient(target, clientId, describeTarget(target));
    const matches = (key: { kid?: unknown; kty?: unknown }) =>
      key.kid === kid && (kty === undefined || key.kty === kty);
    const inline = inlineKeysOf(record, clientId);
    const hits = inline.filter(matches);
    if (hits.length === 0) {
      throw new CliError(
        "input_invalid",
        `client ${JSON.stringify(clientId)} has no key with kid ${JSON.stringify(kid)}${kty ? ` and kty ${kty}` : ""}`,
      );
    }
    if (hits.length > 1) {
      throw new CliError(
        "usage",
        `${this.name}: kid ${JSON.stringify(kid)} names ${hits.length} keys of different types; add --kty`,
      );
    }
    if (inline.length === 1) {
      throw new CliError(
        "key_refused",
        `refusing to retire the last key of ${JSON.stringify(clientId)}: add its replacement first (clients add-key), or disable the client`,
      );
    }
    const storedJwks = stored.jwks as { keys: Array<{ kid?: unknown; kty?: unknown }> };
    const next = { ...stored, jwks: { ...storedJwks, keys: storedJwks.keys.filter((key) => !matches(key)) } };
    const saved = await saveClient(target, next);
    say(
      `Retired key ${kid} of client ${JSON.stringify(clientId)} in ${describeTarget(target)}; ${inlineKeysOf(saved, clientId).length} key${inlineKeysOf(saved, clientId).length === 1 ? "" : "s"} left.`,
    );
  },
};

export const clientsCommands: Command[] = [
  clientsAdd,
  clientsList,
  clientsShow,
  statusCommand("disabled"),
  statusCommand("active"),
  clientsRemove,
  clientsAddKey,
  clientsRetireKey,
];
