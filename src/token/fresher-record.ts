// When an assertion names a key the client's cached or replicated record does not have, asks the client's authority
// once for its current record: a key added a moment ago then works at once instead of after CLIENT_CACHE_TTL and KV's
// delay. At most one ask per client per isolate per cooldown, since any stranger can send such an assertion.
import type { Context } from "hono";
import type { ClientView } from "../client-authority/contract";
import type { AppEnv } from "../context";
import { BoundedCache } from "../lib/bounded-cache";
import { CLIENT_CACHE_ENTRIES, LIMITS } from "../protocol/constants";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { rememberClient } from "../registry/client-registry";
import { type ClientRecord, RecordError, validateClientRecord } from "../registry/record";

/** When this isolate last asked a client's authority, in ms. */
const lastAsked = new BoundedCache<string, number>(CLIENT_CACHE_ENTRIES);

/** Whether `err` says no registered key verified the assertion (the only refusals a newer record could change). */
export function isKeyMiss(err: unknown): boolean {
  return err instanceof TokenServiceError && (err.reason === "no_matching_key" || err.reason === "signature_invalid");
}

/** The authority's record when it is newer than `record` and active, else null (also within the cooldown). */
export async function fresherRecord(c: Context<AppEnv>, record: ClientRecord): Promise<ClientRecord | null> {
  const nowMs = c.get("now") * 1000;
  const asked = lastAsked.get(record.client_id);
  if (asked !== undefined && nowMs - asked < LIMITS.authorityRefreshCooldownSeconds * 1000) return null;
  lastAsked.set(record.client_id, nowMs);
  const view = await whileAvailable(
    "replay_guard_unavailable",
    async () => (await c.env.CLIENT_AUTHORITY.getByName(record.client_id).read(record.client_id)) as ClientView | null,
  );
  if (view === null || view.record === null || view.version === (record.version ?? 0)) return null;
  let fresh: ClientRecord;
  try {
    fresh = validateClientRecord(view.record, record.client_id);
  } catch (err) {
    if (err instanceof RecordError) return null;
    throw err;
  }
  if (fresh.status !== "active") return null;
  const config = c.get("config");
  rememberClient(fresh, { ttlSeconds: config.clientCacheTtl, now: c.get("now") });
  return fresh;
}
