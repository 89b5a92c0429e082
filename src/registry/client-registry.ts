// Reads client records from Workers KV (binding CLIENTS, the replica the clients' authorities write), validates them,
// and reuses a validated active record for a few seconds per isolate (CLIENT_CACHE_TTL, docs/registry.md), as it
// remembers for as long that an id has no record. Never writes KV. A broken or disabled record is refused, never
// trusted, never cached and never a 500.
import { BoundedCache } from "../lib/bounded-cache";
import { CLIENT_CACHE_ENTRIES, LIMITS, UNKNOWN_CLIENT_CACHE_ENTRIES } from "../protocol/constants";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { type ClientRecord, clientKey, RecordError, validateClientRecord } from "./record";

/** How long a validated record may be reused, and the request time to judge it by. */
export interface ClientCachePolicy {
  /** Seconds a record stays reusable after it was read; 0 reads KV on every call. */
  ttlSeconds: number;
  /** Request time, whole seconds since the epoch. */
  now: number;
}

const NO_CACHE: ClientCachePolicy = { ttlSeconds: 0, now: 0 };

/**
 * Validated active records by client_id, oldest first. Records are shared between requests: read-only.
 * A refused client is never stored, so a client disabled in KV is refused as soon as its cached copy expires.
 */
const cachedClients = new BoundedCache<string, { record: ClientRecord; freshUntil: number }>(CLIENT_CACHE_ENTRIES);

/** Client ids KV had no record for, and until when (request seconds) that answer is reused. */
const unknownClients = new BoundedCache<string, number>(UNKNOWN_CLIENT_CACHE_ENTRIES);

/**
 * Loads the record of an active client, or throws invalid_client reasons. With a policy, a record read less than
 * `ttlSeconds` ago by this isolate is returned without reading KV.
 */
export async function loadActiveClient(
  kv: KVNamespace,
  clientId: string,
  cache: ClientCachePolicy = NO_CACHE,
): Promise<ClientRecord> {
  const cached = cachedClients.get(clientId);
  if (cached) {
    if (cache.now < cached.freshUntil && cache.ttlSeconds > 0) return cached.record;
    cachedClients.delete(clientId);
  }
  const unknownUntil = unknownClients.get(clientId);
  if (unknownUntil !== undefined) {
    if (cache.now < unknownUntil && cache.ttlSeconds > 0) {
      throw new TokenServiceError("client_unknown", "no record (remembered by this isolate)");
    }
    unknownClients.delete(clientId);
  }
  let record: ClientRecord;
  try {
    record = await readActiveClient(kv, clientId);
  } catch (err) {
    if (cache.ttlSeconds > 0 && err instanceof TokenServiceError && err.reason === "client_unknown") {
      unknownClients.set(clientId, cache.now + cache.ttlSeconds);
    }
    throw err;
  }
  if (cache.ttlSeconds > 0) {
    cachedClients.set(clientId, { record, freshUntil: cache.now + cache.ttlSeconds });
  }
  return record;
}

/**
 * Puts a record the client's authority returned (newer than what KV served) into this isolate's cache, so the next
 * requests use it until KV's replica catches up. The caller has validated it.
 */
export function rememberClient(record: ClientRecord, cache: ClientCachePolicy): void {
  unknownClients.delete(record.client_id);
  if (cache.ttlSeconds > 0) cachedClients.set(record.client_id, { record, freshUntil: cache.now + cache.ttlSeconds });
}

/** Drops what this isolate remembers of `clientId` having no record: the admin API has just registered it. */
export function forgetUnknownClient(clientId: string): void {
  unknownClients.delete(clientId);
}

/** One KV read and a full validation of the record. */
async function readActiveClient(kv: KVNamespace, clientId: string): Promise<ClientRecord> {
  const text = await whileAvailable("registry_unavailable", () => kv.get(clientKey(clientId), "text"));
  if (text === null) throw new TokenServiceError("client_unknown");
  if (text.length > LIMITS.maxClientRecordBytes) {
    throw new TokenServiceError("client_record_invalid", "record exceeds the size limit");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TokenServiceError("client_record_invalid", "record is not JSON");
  }
  let record: ClientRecord;
  try {
    record = validateClientRecord(parsed, clientId);
  } catch (err) {
    if (err instanceof RecordError) throw new TokenServiceError("client_record_invalid", err.message);
    throw err;
  }
  if (record.status !== "active") throw new TokenServiceError("client_disabled");
  return record;
}
