// The client registry in KV, through wrangler: the CLI's bootstrap path, for clients no authority holds yet. Every
// change is computed by the Worker's own rules (src/client-authority/changes.ts, validateClientRecord) before anything
// is written. A record that carries a version is held by its client's authority, which would never see a write here:
// changing it is refused, with the way to do it instead. Reads and writes KV only.
import { applyChange, ChangeRefused } from "../../../src/client-authority/changes";
import type { ClientChange } from "../../../src/client-authority/contract";
import { LIMITS } from "../../../src/protocol/constants";
import { type ClientRecord, clientKey, RecordError, validateClientRecord } from "../../../src/registry/record";
import { ADMIN_ENV } from "../admin-target";
import { CliError } from "../cli-error";
import { describeTarget, type RegistryTarget } from "../registry-target";
import { kvDelete, kvGet, kvGetMany, kvListKeys, kvPut } from "../wrangler-kv";
import type { ClientStore, ListedClient, StoredClient } from "./client-store";

const KEY_PREFIX = clientKey("");

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

export class KvClientStore implements ClientStore {
  readonly where: string;
  readonly authoritative = false;
  readonly #target: RegistryTarget;

  constructor(target: RegistryTarget) {
    this.#target = target;
    this.where = describeTarget(target);
  }

  async load(clientId: string): Promise<StoredClient | null> {
    const text = await kvGet(this.#target, clientKey(clientId));
    return text === null ? null : interpret(clientId, text);
  }

  /** Every client record, sorted by client_id. */
  async list(): Promise<ListedClient[]> {
    const keys = (await kvListKeys(this.#target, KEY_PREFIX)).sort();
    const values = await kvGetMany(this.#target, keys);
    const clients: ListedClient[] = [];
    for (const key of keys) {
      const text = values.get(key);
      if (text === null || text === undefined) continue;
      const client = interpret(key.slice(KEY_PREFIX.length), text);
      const version = client.stored?.version;
      clients.push({
        clientId: client.clientId,
        status: client.record?.status ?? null,
        version: typeof version === "number" ? version : null,
        client,
      });
    }
    return clients;
  }

  async apply(clientId: string, change: ClientChange): Promise<Record<string, unknown> | null> {
    const current = await this.load(clientId);
    if (current !== null && typeof current.stored?.version === "number") {
      throw new CliError(
        "managed_by_authority",
        `client ${JSON.stringify(clientId)} is held by its authority (version ${current.stored.version}): change it through the management API (--admin-key and --admin-client-id, or ${ADMIN_ENV.key} and ${ADMIN_ENV.clientId})`,
      );
    }
    if (current !== null && current.stored === null && change.kind !== "create" && change.kind !== "replace") {
      throw new CliError(
        "record_invalid",
        `the stored record of ${JSON.stringify(clientId)} is invalid (${current.problem}); replace it with clients add`,
      );
    }
    let next: Record<string, unknown> | null;
    try {
      next = applyChange(current?.stored ?? null, change, clientId);
    } catch (err) {
      if (!(err instanceof ChangeRefused)) throw err;
      if (err.refusal === "unknown")
        throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${this.where}`);
      throw new CliError(
        err.refusal === "exists" ? "input_invalid" : "record_invalid",
        `client ${JSON.stringify(clientId)}: ${err.message}`,
      );
    }
    if (next === null) {
      await kvDelete(this.#target, clientKey(clientId));
      return null;
    }
    checkRecord(next);
    await kvPut(this.#target, clientKey(clientId), JSON.stringify(next));
    return next;
  }
}
