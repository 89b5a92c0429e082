// The client registry record: its TypeScript shape, its KV key, and its validation (docs/registry.md).
// Shared by the Worker (validate on every read) and the CLI (validate before every write).
// Pure: no I/O, no clock. Unknown members are kept by the CLI and ignored here, so later fields can be added.
import { LIMITS } from "../protocol/constants";
import { type ClientJwk, JwkError, validatePublicJwkSet } from "../protocol/jwk";
import { isResourceIndicator, isValidClientId, isValidScopeToken, jwksUriProblem } from "../protocol/syntax";
import { type FederatedTrust, validateFederation } from "./federated-trust";

export type ClientStatus = "active" | "disabled";

export interface ClientRecord {
  client_id: string;
  status: ClientStatus;
  /**
   * Public keys the client signs assertions with. Exactly one of `jwks` and `jwks_uri` is set, or at most one when
   * `federation` is: a federated client may hold no key at all.
   */
  jwks?: { keys: ClientJwk[] };
  /** Where the client publishes its public keys (a JWK Set), fetched and cached by the service (docs/registry.md). */
  jwks_uri?: string;
  /** External issuers whose tokens stand in for the client's own assertion (docs/federation.md). */
  federation?: FederatedTrust[];
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
   * Also accept the token endpoint URL as assertion `aud` (for clients built before RFC 10070).
   * Off by default: the issuer identifier is the only accepted audience.
   */
  legacy_audience?: boolean;
  /**
   * RFC 9449 section 5.2 (client metadata `dpop_bound_access_tokens`): the client always uses DPoP; a token request
   * without a proof is refused.
   */
  dpop_bound_access_tokens?: boolean;
  /**
   * The client may call the introspection endpoint (RFC 7662): a resource server that checks tokens online. Off by
   * default, since an answer tells whether any token of any client is still active.
   */
  introspection?: boolean;
  /** Optional token request rate limit; absent means unlimited. */
  rate_limit?: { requests: number; per_seconds: number };
  /** Kids refused at use (a retired key a jwks_uri still publishes, or an inline key being phased out). */
  retired_kids?: string[];
  /**
   * The record's version, set by the client's authority (its Durable Object) on every change; absent in a record
   * the authority has not adopted yet (written to KV by the CLI's bootstrap path).
   */
  version?: number;
}

/** KV key of a client record. The prefix leaves room for other record kinds in the same namespace. */
export function clientKey(clientId: string): string {
  return `client:${clientId}`;
}

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
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
  if (raw.federation !== undefined) {
    try {
      record.federation = validateFederation(raw.federation);
    } catch (err) {
      throw new RecordError((err as Error).message);
    }
  }
  if (raw.jwks !== undefined && raw.jwks_uri !== undefined) {
    throw new RecordError("a client record holds one of jwks (inline keys) and jwks_uri, not both");
  }
  if (raw.jwks === undefined && raw.jwks_uri === undefined) {
    if (record.federation === undefined)
      throw new RecordError("a client record needs exactly one of jwks (inline keys) and jwks_uri, or a federation");
  } else if (raw.jwks !== undefined) {
    try {
      record.jwks = { keys: validatePublicJwkSet(raw.jwks) };
    } catch (err) {
      if (err instanceof JwkError) throw new RecordError(`jwks: ${err.message}`);
      throw err;
    }
  } else {
    const problem = jwksUriProblem(raw.jwks_uri);
    if (problem !== null) throw new RecordError(`jwks_uri ${problem}`);
    record.jwks_uri = raw.jwks_uri as string;
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
  if (raw.dpop_bound_access_tokens !== undefined) {
    if (typeof raw.dpop_bound_access_tokens !== "boolean") {
      throw new RecordError("dpop_bound_access_tokens must be true or false");
    }
    record.dpop_bound_access_tokens = raw.dpop_bound_access_tokens;
  }
  if (raw.introspection !== undefined) {
    if (typeof raw.introspection !== "boolean") throw new RecordError("introspection must be true or false");
    record.introspection = raw.introspection;
  }
  if (raw.rate_limit !== undefined) {
    const limit = raw.rate_limit as Record<string, unknown> | null;
    const whole = (v: unknown, max: number) => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= max;
    if (
      typeof limit !== "object" ||
      limit === null ||
      !whole(limit.requests, LIMITS.maxRateLimitRequests) ||
      !whole(limit.per_seconds, LIMITS.maxRateLimitWindowSeconds)
    ) {
      throw new RecordError(
        `rate_limit must be {requests: 1..${LIMITS.maxRateLimitRequests}, per_seconds: 1..${LIMITS.maxRateLimitWindowSeconds}}`,
      );
    }
    record.rate_limit = { requests: limit.requests as number, per_seconds: limit.per_seconds as number };
  }
  if (raw.name !== undefined) {
    if (typeof raw.name !== "string" || raw.name.length > LIMITS.maxClientNameLength)
      throw new RecordError(`name must be a string of at most ${LIMITS.maxClientNameLength} characters`);
    record.name = raw.name;
  }
  if (raw.retired_kids !== undefined) {
    const kids = stringList(raw, "retired_kids", isBoundedKid, `kids of 1 to ${LIMITS.maxKidLength} characters`);
    if (kids.length > LIMITS.maxRetiredKids)
      throw new RecordError(`retired_kids holds more than ${LIMITS.maxRetiredKids}`);
    if (kids.length > 0) record.retired_kids = kids;
  }
  if (raw.version !== undefined) {
    if (typeof raw.version !== "number" || !Number.isSafeInteger(raw.version) || raw.version < 1) {
      throw new RecordError("version must be a positive whole number (it is set by the service)");
    }
    record.version = raw.version;
  }
  return record;
}

function isBoundedKid(value: unknown): boolean {
  return typeof value === "string" && value.length > 0 && value.length <= LIMITS.maxKidLength;
}
