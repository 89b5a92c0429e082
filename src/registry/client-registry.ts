// Reads client records from Workers KV (binding CLIENTS) and validates them on every read.
// Never writes: the registry is managed with the CLI (scripts/cli.ts) or wrangler. A broken record is refused,
// never trusted and never a 500.
import { LIMITS } from "../constants";
import { TokenServiceError } from "../errors";
import { clientKey, RecordError, validateClientRecord, type ClientRecord } from "./record";

/** Loads and validates the record of an active client, or throws invalid_client reasons. */
export async function loadActiveClient(kv: KVNamespace, clientId: string): Promise<ClientRecord> {
  const text = await kv.get(clientKey(clientId), "text");
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
