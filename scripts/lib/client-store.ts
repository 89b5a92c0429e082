// The client registry as the CLI sees it: load, validate, save and delete client records in KV. Every record
// is checked with the Worker's own validateClientRecord before it is written, so the two always agree.
import { LIMITS } from "../../src/protocol/constants";
import { type ClientRecord, clientKey, RecordError, validateClientRecord } from "../../src/registry/record";
import { CliError } from "./cli-error";
import type { RegistryTarget } from "./registry-target";
import { kvDelete, kvGet, kvGetMany, kvListKeys, kvPut } from "./wrangler-kv";

const KEY_PREFIX = clientKey("");

/** A stored record: its members as stored (unknown ones kept), and the validated view or why it is invalid. */
export interface StoredClient {
  clientId: string;
  stored: Record<string, unknown> | null;
  record: ClientRecord | null;
  problem: string | null;
}

function interpret(clientId: string, text: string): StoredClient {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { clientId, stored: null, record: null, problem: "the stored value is not JSON" };
  }
  const stored =
    typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  try {
    return { clientId, stored, record: validateClientRecord(parsed, clientId), problem: null };
  } catch (err) {
    if (err instanceof RecordError) return { clientId, stored, record: null, problem: err.message };
    throw err;
  }
}

/** Throws CliError("record_invalid") unless `candidate` is a record the Worker would accept under that id. */
export function checkRecord(candidate: Record<string, unknown>): ClientRecord {
  let record: ClientRecord;
  try {
    record = validateClientRecord(candidate, candidate.client_id as string);
  } catch (err) {
    if (err instanceof RecordError) throw new CliError("record_invalid", err.message);
    throw err;
  }
  if (new TextEncoder().encode(JSON.stringify(candidate)).length > LIMITS.maxClientRecordBytes) {
    throw new CliError("record_invalid", `the record exceeds ${LIMITS.maxClientRecordBytes} bytes`);
  }
  return record;
}

export async function loadClient(target: RegistryTarget, clientId: string): Promise<StoredClient | null> {
  const text = await kvGet(target, clientKey(clientId));
  return text === null ? null : interpret(clientId, text);
}

/** Like loadClient, but a missing or invalid record is an error: for commands that change a record. */
export async function loadValidClient(
  target: RegistryTarget,
  clientId: string,
  where: string,
): Promise<{ stored: Record<string, unknown>; record: ClientRecord }> {
  const client = await loadClient(target, clientId);
  if (client === null) throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${where}`);
  if (client.record === null || client.stored === null) {
    throw new CliError(
      "record_invalid",
      `the stored record of ${JSON.stringify(clientId)} is invalid (${client.problem}); replace it with clients add`,
    );
  }
  return { stored: client.stored, record: client.record };
}

/** Validates, then writes. Nothing reaches KV unless the Worker would accept it. */
export async function saveClient(target: RegistryTarget, candidate: Record<string, unknown>): Promise<ClientRecord> {
  const record = checkRecord(candidate);
  await kvPut(target, clientKey(record.client_id), JSON.stringify(candidate));
  return record;
}

export async function deleteClient(target: RegistryTarget, clientId: string): Promise<void> {
  await kvDelete(target, clientKey(clientId));
}

/** Every client record, sorted by client_id. */
export async function listClients(target: RegistryTarget): Promise<StoredClient[]> {
  const keys = (await kvListKeys(target, KEY_PREFIX)).sort();
  const values = await kvGetMany(target, keys);
  const clients: StoredClient[] = [];
  for (const key of keys) {
    const text = values.get(key);
    if (text !== null && text !== undefined) clients.push(interpret(key.slice(KEY_PREFIX.length), text));
  }
  return clients;
}
