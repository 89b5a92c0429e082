// The client registry record: its TypeScript shape, its KV key, and its validation (docs/registry.md).
// Shared by the Worker (validate on every read) and the CLI (validate before every write).
// Pure: no I/O, no clock. Unknown members are kept by the CLI and ignored here, so later fields can be added.
import { LIMITS } from "../protocol/constants";
import { type ClientJwk, JwkError, validatePublicJwkSet } from "../protocol/jwk";

export type ClientStatus = "active" | "disabled";

export interface ClientRecord {
  client_id: string;
  status: ClientStatus;
  /** Public keys the client signs assertions with. Exactly one of `jwks` and `jwks_uri` is set. */
  jwks?: { keys: ClientJwk[] };
  /** Where the client publishes its public keys (a JWK Set), fetched and cached by the service (docs/registry.md). */
  jwks_uri?: string;
  /** Scopes the client may be granted. */
  scopes: string[];
  /** Scopes granted when a request names none. Absent: all of `scopes`. */
  default_scopes?: string[];
  /** Resource indicators (RFC 8707) the client may obtain tokens for; the first is the default `aud`. */
  audiences: string[];
  /** Access token lifetime in seconds for this client; capped by ACCESS_TOKEN_TTL. */
  token_ttl?: number;
  /** Human-readable label. */
  name?: string;
  /**
   * Also accept the token endpoint URL as assertion `aud` (for clients built before draft-ietf-oauth-rfc7523bis).
   * Off by default: the issuer identifier is the only accepted audience.
   */
  legacy_audience?: boolean;
  /** Optional token request rate limit; absent means unlimited. */
  rate_limit?: { requests: number; per_seconds: number };
}

/** KV key of a client record. The prefix leaves room for other record kinds in the same namespace. */
export function clientKey(clientId: string): string {
  return `client:${clientId}`;
}

/** RFC 6749 appendix A.1: client_id is VSCHAR (printable ASCII); we also bound its length and forbid ":" at start. */
const CLIENT_ID = /^[\x20-\x7e]+$/;
/** RFC 6749 section 3.3 scope-token: NQCHAR without space. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
}

export function isValidClientId(value: unknown): value is string {
  return (
    typeof value === "string" && value.length > 0 && value.length <= LIMITS.maxClientIdLength && CLIENT_ID.test(value)
  );
}

export function isValidScopeToken(value: unknown): value is string {
  return typeof value === "string" && value.length <= LIMITS.maxScopeLength && SCOPE_TOKEN.test(value);
}

/** An absolute URI without fragment, as RFC 8707 requires of a resource indicator. */
export function isResourceIndicator(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return false;
  if (value.includes("#")) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * A jwks_uri the service may fetch: https, or http on a loopback host (used only when the Worker's
 * ALLOW_INSECURE_JWKS_URI is "true", for local testing); no credentials, no fragment.
 */
export function isJwksUri(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 2048 || value.includes("#")) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}

function stringList(input: Record<string, unknown>, name: string, check: (v: unknown) => boolean, what: string) {
  const value = input[name];
  if (!Array.isArray(value)) throw new RecordError(`${name} must be an array of ${what}`);
  for (const item of value) {
    if (!check(item)) throw new RecordError(`${name} holds an invalid entry: each must be ${what}`);
  }
  if (new Set(value).size !== value.length) throw new RecordError(`${name} holds duplicates`);
  return value as string[];
}

/**
 * Validates a parsed record. `expectedClientId`, when given, must equal the record's client_id (the KV key
 * and the record must agree, or a copied record could authenticate as someone else).
 */
export function validateClientRecord(input: unknown, expectedClientId?: string): ClientRecord {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new RecordError("a client record must be a JSON object");
  }
  const raw = input as Record<string, unknown>;
  if (!isValidClientId(raw.client_id)) {
    throw new RecordError(`client_id must be 1 to ${LIMITS.maxClientIdLength} printable ASCII characters`);
  }
  if (expectedClientId !== undefined && raw.client_id !== expectedClientId) {
    throw new RecordError("client_id does not match the registry key");
  }
  if (raw.status !== "active" && raw.status !== "disabled") {
    throw new RecordError('status must be "active" or "disabled"');
  }
  const record: ClientRecord = {
    client_id: raw.client_id,
    status: raw.status,
    scopes: stringList(raw, "scopes", isValidScopeToken, "scope tokens (RFC 6749 section 3.3)"),
    audiences: stringList(raw, "audiences", isResourceIndicator, "absolute URIs without fragment"),
  };
  if ((raw.jwks === undefined) === (raw.jwks_uri === undefined)) {
    throw new RecordError("a client record needs exactly one of jwks (inline keys) and jwks_uri");
  }
  if (raw.jwks !== undefined) {
    try {
      record.jwks = { keys: validatePublicJwkSet(raw.jwks) };
    } catch (err) {
      if (err instanceof JwkError) throw new RecordError(`jwks: ${err.message}`);
      throw err;
    }
  } else {
    if (!isJwksUri(raw.jwks_uri)) {
      throw new RecordError("jwks_uri must be an https URL without credentials or fragment (http only for localhost)");
    }
    record.jwks_uri = raw.jwks_uri;
  }
  if (raw.default_scopes !== undefined) {
    const defaults = stringList(raw, "default_scopes", isValidScopeToken, "scope tokens");
    const outside = defaults.filter((s) => !record.scopes.includes(s));
    if (outside.length > 0) throw new RecordError("default_scopes must be a subset of scopes");
    record.default_scopes = defaults;
  }
  if (raw.token_ttl !== undefined) {
    if (typeof raw.token_ttl !== "number" || !Number.isInteger(raw.token_ttl) || raw.token_ttl < 1) {
      throw new RecordError("token_ttl must be a positive whole number of seconds");
    }
    record.token_ttl = raw.token_ttl;
  }
  if (raw.legacy_audience !== undefined) {
    if (typeof raw.legacy_audience !== "boolean") throw new RecordError("legacy_audience must be true or false");
    record.legacy_audience = raw.legacy_audience;
  }
  if (raw.rate_limit !== undefined) {
    const limit = raw.rate_limit as Record<string, unknown> | null;
    const whole = (v: unknown, max: number) => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= max;
    if (
      typeof limit !== "object" ||
      limit === null ||
      !whole(limit.requests, 1_000_000) ||
      !whole(limit.per_seconds, 86_400)
    ) {
      throw new RecordError("rate_limit must be {requests: 1..1000000, per_seconds: 1..86400}");
    }
    record.rate_limit = { requests: limit.requests as number, per_seconds: limit.per_seconds as number };
  }
  if (raw.name !== undefined) {
    if (typeof raw.name !== "string" || raw.name.length > 200)
      throw new RecordError("name must be a string of at most 200 characters");
    record.name = raw.name;
  }
  return record;
}
