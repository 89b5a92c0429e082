// Client public keys published at a `jwks_uri`: fetched with a timeout and a size cap, never following a redirect to
// another origin, cached per isolate (and in the Cache API) for the server's max-age clamped to a floor and a ceiling,
// refetched at most once per cooldown on an unknown kid, one fetch in flight per URL, and the last good set served
// for a bounded time when a refresh fails. Never logs keys; never fetches a URL taken from a token.
import { JWKS_URI } from "../constants";
import { readBoundedText } from "../bounded-body";
import { TokenServiceError } from "../errors";
import { JwkError, validatePublicJwk, type ClientJwk } from "./jwk";
import { isJwksUri } from "./record";

export interface RemoteJwksOptions {
  nowMs: number;
  /** Allow http:// on loopback hosts (ALLOW_INSECURE_JWKS_URI, local testing only). */
  allowInsecure: boolean;
  /** Outbound fetch; the global one by default. */
  fetcher?: typeof fetch;
}

interface Entry {
  keys: ClientJwk[];
  /** Last successful fetch: bounds how long the set may be served stale. */
  fetchedAtMs: number;
  freshUntilMs: number;
  /** Last fetch attempt, successful or not: bounds the fetch rate. */
  lastAttemptMs: number;
}

const entries = new Map<string, Entry>();

/** Forgets every cached set in this isolate (tests). */
export function clearRemoteJwksCache(): void {
  entries.clear();
}
const inflight = new Map<string, Promise<Entry>>();

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
  for (const key of keys.slice(0, 100)) {
    try {
      usable.push(validatePublicJwk(key));
    } catch {
      // not a key we verify with
    }
  }
  if (usable.length === 0) throw new JwkError("the JWK Set holds no usable signature key");
  return usable;
}

async function fetchOnce(uri: string, options: RemoteJwksOptions): Promise<{ keys: ClientJwk[]; fresh: number }> {
  const fetcher = options.fetcher ?? fetch;
  let url = new URL(uri);
  for (let hop = 0; hop < 2; hop++) {
    const response = await fetcher(url.toString(), {
      redirect: "manual",
      signal: AbortSignal.timeout(JWKS_URI.fetchTimeoutMs),
      headers: { Accept: "application/jwk-set+json, application/json" },
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get("Location");
      const next = location ? new URL(location, url) : null;
      if (!next || next.origin !== url.origin || hop === 1) throw new Error("redirect to another origin or loop");
      url = next;
      continue;
    }
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    const text = await readBoundedText(response, JWKS_URI.maxBytes);
    if (text === null) throw new Error("JWK Set over the size limit");
    return { keys: usableKeys(JSON.parse(text)), fresh: freshSeconds(response.headers.get("Cache-Control")) };
  }
  throw new Error("too many redirects");
}

/** Fetches (bypassing caches), stores in both caches, one fetch in flight per URL. */
function refresh(uri: string, options: RemoteJwksOptions): Promise<Entry> {
  let pending = inflight.get(uri);
  if (!pending) {
    pending = (async () => {
      const { keys, fresh } = await fetchOnce(uri, options);
      const entry: Entry = {
        keys,
        fetchedAtMs: options.nowMs,
        freshUntilMs: options.nowMs + fresh * 1000,
        lastAttemptMs: options.nowMs,
      };
      remember(uri, entry);
      await putInCacheApi(uri, keys, fresh, options.nowMs);
      return entry;
    })().finally(() => inflight.delete(uri));
    inflight.set(uri, pending);
  }
  return pending;
}

function remember(uri: string, entry: Entry) {
  entries.delete(uri);
  if (entries.size >= JWKS_URI.cacheEntries) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(uri, entry);
}

const CACHE_KEY_PREFIX = "https://jwks-cache.invalid/?uri=";

async function putInCacheApi(uri: string, keys: ClientJwk[], fresh: number, nowMs: number) {
  try {
    const body = JSON.stringify({ keys, fetched_at: nowMs });
    await caches.default.put(
      CACHE_KEY_PREFIX + encodeURIComponent(uri),
      new Response(body, { headers: { "Cache-Control": `max-age=${fresh}`, "Content-Type": "application/json" } }),
    );
  } catch {
    // the Cache API is an optimisation; the per-isolate cache still holds the set
  }
}

async function getFromCacheApi(uri: string, nowMs: number): Promise<Entry | null> {
  try {
    const hit = await caches.default.match(CACHE_KEY_PREFIX + encodeURIComponent(uri));
    if (!hit) return null;
    const { keys, fetched_at } = (await hit.json()) as { keys: unknown[]; fetched_at: number };
    const fresh = freshSeconds(hit.headers.get("Cache-Control"));
    return { keys: usableKeys({ keys }), fetchedAtMs: fetched_at, freshUntilMs: fetched_at + fresh * 1000, lastAttemptMs: fetched_at };
  } catch {
    return null;
  }
}

/**
 * The client's current keys from its jwks_uri. `refetch` asks for a new fetch because a kid was not found; it is
 * honoured at most once per cooldown. Throws jwks_uri_unavailable when no usable set is at hand.
 */
export async function remoteClientKeys(
  uri: string,
  options: RemoteJwksOptions,
  refetch = false,
): Promise<{ keys: ClientJwk[]; refreshed: boolean }> {
  if (!isJwksUri(uri) || (new URL(uri).protocol === "http:" && !options.allowInsecure)) {
    throw new TokenServiceError("jwks_uri_unavailable", "jwks_uri not allowed (http needs ALLOW_INSECURE_JWKS_URI)");
  }
  let entry = entries.get(uri);
  if (!entry && !refetch) {
    const cached = await getFromCacheApi(uri, options.nowMs);
    if (cached) {
      remember(uri, cached);
      entry = cached;
    }
  }
  const fresh = entry !== undefined && options.nowMs < entry.freshUntilMs;
  const coolingDown = entry !== undefined && options.nowMs - entry.lastAttemptMs < JWKS_URI.unknownKidCooldownSeconds * 1000;
  if (entry && (refetch ? coolingDown : fresh)) return { keys: entry.keys, refreshed: false };
  try {
    const next = await refresh(uri, options);
    return { keys: next.keys, refreshed: true };
  } catch (err) {
    if (entry && options.nowMs - entry.fetchedAtMs < JWKS_URI.maxStaleSeconds * 1000) {
      // Serve the last good set; wait a cooldown before trying the key server again.
      entry.lastAttemptMs = options.nowMs;
      entry.freshUntilMs = options.nowMs + JWKS_URI.unknownKidCooldownSeconds * 1000;
      return { keys: entry.keys, refreshed: false };
    }
    const reason = err instanceof Error ? err.message : "fetch failed";
    throw new TokenServiceError("jwks_uri_unavailable", reason.slice(0, 200));
  }
}
