// Client public keys published at a `jwks_uri`: fetched with a timeout and a size cap, never following a redirect to
// another origin, cached per isolate (and in the Cache API, written off the response path when the caller can) for
// the server's max-age clamped to a floor and a ceiling, refetched at most once per cooldown on an unknown kid or
// after a failed fetch, one fetch in flight per URL that no request waits on past a bound, and the last good set
// served for a bounded time when a refresh fails. Never logs keys; never fetches a URL taken from a token.

import { base64url } from "jose";
import { BoundedCache } from "../lib/bounded-cache";
import { SharedFlights } from "../lib/shared-flights";
import { JWKS_URI, LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { type ClientJwk, JwkError, validatePublicJwk } from "../protocol/jwk";
import { isJwksUri, isLoopbackHost } from "../protocol/syntax";
import { fetchBoundedJson } from "./bounded-fetch";

export interface RemoteJwksOptions {
  nowMs: number;
  /** Allow a loopback host, over http or https (ALLOW_INSECURE_JWKS_URI, local testing only). */
  allowInsecure: boolean;
  /** Outbound fetch; the global one by default. */
  fetcher?: typeof fetch;
  /** Keeps the Cache API write alive after the response (ExecutionContext.waitUntil); without it, it is awaited. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * The HMAC key that authenticates Cache API entries (issuer/signing-keys.ts): any Worker of the zone can write to
   * the Cache API, so an entry without a valid MAC is ignored. Without it, the Cache API is not used at all.
   */
  cacheIntegrityKey?: CryptoKey;
}

interface Entry {
  keys: ClientJwk[];
  /** Last successful fetch: bounds how long the set may be served stale. */
  fetchedAtMs: number;
  freshUntilMs: number;
  /** Last fetch attempt, successful or not: bounds the fetch rate. */
  lastAttemptMs: number;
}

const entries = new BoundedCache<string, Entry>(JWKS_URI.cacheEntries);
/** When the last fetch of a URL failed: no new fetch of it until a cooldown has passed. */
const failures = new BoundedCache<string, number>(JWKS_URI.cacheEntries);
/** The longest any request waits on a fetch, its own or a shared one; also the age at which a flight is dead. */
const FLIGHT_BOUND_MS = JWKS_URI.fetchTimeoutMs + JWKS_URI.inflightGraceMs;
const inflight = new SharedFlights<string, Entry>(
  JWKS_URI.cacheEntries,
  FLIGHT_BOUND_MS,
  () => new Error(`no JWK Set within ${FLIGHT_BOUND_MS} ms`),
);
const COOLDOWN_MS = JWKS_URI.unknownKidCooldownSeconds * 1000;

/** max-age from a Cache-Control header, clamped; the default when absent or unparsable. */
export function freshSeconds(cacheControl: string | null): number {
  const match = cacheControl?.match(/(?:^|,)\s*(?:s-)?max-age\s*=\s*"?(\d+)"?/i);
  const value = match ? Number(match[1]) : JWKS_URI.defaultFreshSeconds;
  return Math.min(JWKS_URI.maxFreshSeconds, Math.max(JWKS_URI.minFreshSeconds, value));
}

/** The valid signature keys of a published set; keys for other uses (e.g. `use: enc`) are skipped, not fatal. */
export function usableKeys(body: unknown): ClientJwk[] {
  const keys = (body as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new JwkError('a JWK Set must be an object with a "keys" array');
  const usable: ClientJwk[] = [];
  for (const key of keys.slice(0, LIMITS.maxPublishedKeysScanned)) {
    try {
      usable.push(validatePublicJwk(key));
    } catch {
      // not a key we verify with
    }
  }
  if (usable.length === 0) throw new JwkError("the JWK Set holds no usable signature key");
  // The bounds of an inline set: a published one is no licence for a key search per request.
  if (usable.length > LIMITS.maxKeysPerClient)
    throw new JwkError(`the JWK Set holds more than ${LIMITS.maxKeysPerClient} signature keys`);
  const kids = usable.flatMap((key) => (key.kid === undefined ? [] : [key.kid]));
  if (new Set(kids).size !== kids.length) throw new JwkError("the JWK Set names a kid twice");
  return usable;
}

async function fetchOnce(uri: string, options: RemoteJwksOptions): Promise<{ keys: ClientJwk[]; fresh: number }> {
  const { body, cacheControl } = await fetchBoundedJson(uri, {
    timeoutMs: JWKS_URI.fetchTimeoutMs,
    maxBytes: JWKS_URI.maxBytes,
    accept: "application/jwk-set+json, application/json",
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
  });
  return { keys: usableKeys(body), fresh: freshSeconds(cacheControl) };
}

/** Fetches (bypassing caches) and stores in both caches; the Cache API write goes to `waitUntil` when given. */
async function fetchAndStore(uri: string, options: RemoteJwksOptions): Promise<Entry> {
  const { keys, fresh } = await fetchOnce(uri, options);
  const entry: Entry = {
    keys,
    fetchedAtMs: options.nowMs,
    freshUntilMs: options.nowMs + fresh * 1000,
    lastAttemptMs: options.nowMs,
  };
  entries.set(uri, entry);
  failures.delete(uri);
  const stored = putInCacheApi(uri, keys, fresh, options);
  if (options.waitUntil) options.waitUntil(stored);
  else await stored;
  return entry;
}

/**
 * One fetch in flight per URL, shared by concurrent requests (lib/shared-flights.ts): every caller waits at most
 * FLIGHT_BOUND_MS on it, and a flight older than that is replaced by a new fetch instead of joined.
 */
function refresh(uri: string, options: RemoteJwksOptions): Promise<Entry> {
  return inflight.join(uri, options.nowMs, () => fetchAndStore(uri, options));
}

/** The last good set while it may still be served after a failed refresh. */
function servableStale(entry: Entry | undefined, nowMs: number): Entry | undefined {
  return entry && nowMs - entry.fetchedAtMs < JWKS_URI.maxStaleSeconds * 1000 ? entry : undefined;
}

const CACHE_KEY_PREFIX = "https://jwks-cache.invalid/?uri=";

/** What a cached entry's MAC covers: the URI, the fetch time and the keys, so none can be swapped for another's. */
function macInput(uri: string, fetchedAt: number, keys: string): Uint8Array {
  return new TextEncoder().encode(`${uri}\n${fetchedAt}\n${keys}`);
}

async function putInCacheApi(uri: string, keys: ClientJwk[], fresh: number, options: RemoteJwksOptions) {
  if (!options.cacheIntegrityKey) return;
  try {
    const serialised = JSON.stringify(keys);
    const input = macInput(uri, options.nowMs, serialised);
    const mac = base64url.encode(new Uint8Array(await crypto.subtle.sign("HMAC", options.cacheIntegrityKey, input)));
    const body = JSON.stringify({ keys: serialised, fetched_at: options.nowMs, mac });
    await caches.default.put(
      CACHE_KEY_PREFIX + encodeURIComponent(uri),
      new Response(body, { headers: { "Cache-Control": `max-age=${fresh}`, "Content-Type": "application/json" } }),
    );
  } catch {
    // the Cache API is an optimisation; the per-isolate cache still holds the set
  }
}

/**
 * A set another isolate of this Worker cached, when its MAC verifies (an entry written by anyone else is ignored).
 * Its fetch time is clamped to now, so a forged or skewed one cannot stretch its freshness.
 */
async function getFromCacheApi(uri: string, options: RemoteJwksOptions): Promise<Entry | null> {
  if (!options.cacheIntegrityKey) return null;
  try {
    const hit = await caches.default.match(CACHE_KEY_PREFIX + encodeURIComponent(uri));
    if (!hit) return null;
    const { keys, fetched_at, mac } = (await hit.json()) as { keys: unknown; fetched_at: unknown; mac: unknown };
    if (typeof keys !== "string" || typeof fetched_at !== "number" || typeof mac !== "string") return null;
    const input = macInput(uri, fetched_at, keys);
    if (!(await crypto.subtle.verify("HMAC", options.cacheIntegrityKey, base64url.decode(mac), input))) return null;
    const fetchedAtMs = Math.min(fetched_at, options.nowMs);
    const fresh = freshSeconds(hit.headers.get("Cache-Control"));
    return {
      keys: usableKeys({ keys: JSON.parse(keys) }),
      fetchedAtMs,
      freshUntilMs: fetchedAtMs + fresh * 1000,
      lastAttemptMs: fetchedAtMs,
    };
  } catch {
    return null;
  }
}

/**
 * The client's current keys from its jwks_uri. `refetch` asks for a new fetch because a kid was not found; it is
 * honoured at most once per cooldown. A failed fetch also starts a cooldown, during which the last good set is
 * served if there is one and nothing is fetched. Throws jwks_uri_unavailable when no usable set is at hand.
 */
export async function remoteClientKeys(
  uri: string,
  options: RemoteJwksOptions,
  refetch = false,
): Promise<{ keys: ClientJwk[]; refreshed: boolean }> {
  if (!isJwksUri(uri) || (isLoopbackHost(new URL(uri).hostname) && !options.allowInsecure)) {
    throw new TokenServiceError(
      "jwks_uri_unavailable",
      "jwks_uri not allowed (loopback needs ALLOW_INSECURE_JWKS_URI)",
    );
  }
  let entry = entries.get(uri);
  if (!entry && !refetch) {
    const cached = await getFromCacheApi(uri, options);
    if (cached) {
      entries.set(uri, cached);
      entry = cached;
    }
  }
  const fresh = entry !== undefined && options.nowMs < entry.freshUntilMs;
  const coolingDown = entry !== undefined && options.nowMs - entry.lastAttemptMs < COOLDOWN_MS;
  if (entry && (refetch ? coolingDown : fresh)) return { keys: entry.keys, refreshed: false };
  const failedAtMs = failures.get(uri);
  if (failedAtMs !== undefined && options.nowMs - failedAtMs < COOLDOWN_MS) {
    // The key server failed within the cooldown: no fetch, whoever asks (the fetch precedes signature checks).
    const stale = servableStale(entry, options.nowMs);
    if (stale) return { keys: stale.keys, refreshed: false };
    throw new TokenServiceError("jwks_uri_unavailable", "the last fetch failed; none until the cooldown has passed");
  }
  try {
    const next = await refresh(uri, options);
    return { keys: next.keys, refreshed: true };
  } catch (err) {
    failures.set(uri, options.nowMs);
    const stale = servableStale(entry, options.nowMs);
    if (stale) {
      // Serve the last good set; wait a cooldown before trying the key server again.
      stale.lastAttemptMs = options.nowMs;
      stale.freshUntilMs = options.nowMs + COOLDOWN_MS;
      return { keys: stale.keys, refreshed: false };
    }
    const reason = err instanceof Error ? err.message : "fetch failed";
    throw new TokenServiceError("jwks_uri_unavailable", reason.slice(0, LIMITS.maxLogDetailLength));
  }
}
