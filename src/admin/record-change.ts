// Reads a client's KV record as raw JSON, applies an admin change to it and validates the result with the
// registry's own rules before anything is written; then writes it. Unknown fields survive. No clock, no logging.
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { clientKey, RecordError, validateClientRecord } from "../registry/record";

/** The stored record as raw JSON (unknown fields kept) with `change` applied and validated; nothing written. */
export async function checkRecordChange(
  kv: KVNamespace,
  clientId: string,
  change: (record: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  const text = await whileAvailable("registry_unavailable", () => kv.get(clientKey(clientId), "text"));
  if (text === null) throw new TokenServiceError("admin_client_unknown");
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    change(raw);
    validateClientRecord(raw, clientId);
    return raw;
  } catch (err) {
    if (err instanceof TokenServiceError) throw err;
    throw new TokenServiceError(
      "admin_request_invalid",
      err instanceof RecordError ? err.message : "stored record is not JSON",
    );
  }
}

/** Writes a record that checkRecordChange produced. */
export async function writeRecord(kv: KVNamespace, clientId: string, record: Record<string, unknown>): Promise<void> {
  await whileAvailable("registry_unavailable", () => kv.put(clientKey(clientId), JSON.stringify(record)));
}
