// The client authority's RPC contract: what the token endpoint and the admin API ask of a client's Durable Object,
// and what it answers. Types only: nothing here runs, and nothing here holds secrets.

/**
 * What the client authenticated for: a token (the default), or a call to the revocation or introspection endpoint,
 * where a record that binds the client to DPoP asks for no proof, and introspection needs the record's permission.
 */
export type ConsumePurpose = "token" | "revocation" | "introspection";

/** Spend a jti, after every other check of a token request has passed. */
export interface ConsumeRequest {
  clientId: string;
  /** Default "token". */
  purpose?: ConsumePurpose;
  jti: string;
  /** Epoch milliseconds until which the spent jti is kept (the assertion's exp plus the clock skew). */
  retainUntilMs: number;
  /** The id (kid, or RFC 7638 thumbprint) of the client key that verified the assertion. */
  keyId: string;
  /**
   * A federated token whose trust allows reuse (`allow_reuse`): everything is checked, but its jti is neither looked
   * up nor spent, so the same token is accepted again until it expires.
   */
  reusable?: true;
  /** The version of the record the Worker authenticated with; 0 for a record no authority has written. */
  recordVersion: number;
  /**
   * The request's DPoP proof, when it sent one (RFC 9449): its jti is spent in the same call, kept until the proof
   * can no longer pass the iat window (its iat plus DPOP_PROOF_MAX_AGE plus the clock skew).
   */
  proof?: { jti: string; retainUntilMs: number };
}

export type ConsumeOutcome =
  | { outcome: "fresh" }
  /** The Worker's record is older than the authority's: check the request again against this one. */
  | { outcome: "stale"; record: Record<string, unknown> }
  /** The authority holds no record: never registered, or removed. */
  | { outcome: "unknown" }
  | { outcome: "disabled" }
  | { outcome: "key_retired" }
  /** The client's record binds it to DPoP (dpop_bound_access_tokens) and the request has no proof: nothing is spent. */
  | { outcome: "proof_required" }
  | { outcome: "replayed" }
  /** The jti's retention had already passed by the authority's clock: it is not spent. */
  | { outcome: "expired" }
  /** The DPoP proof's jti is spent already: nothing is spent. */
  | { outcome: "proof_replayed" }
  /** The DPoP proof's retention had already passed by the authority's clock: nothing is spent. */
  | { outcome: "proof_expired" }
  | { outcome: "rate_limited"; retryAfterSeconds: number }
  /** Purpose "introspection" and the record does not allow it (`introspection: true`): nothing is spent. */
  | { outcome: "not_permitted" };

/** Whether an access token this server signed for the client is still active, by its authority's state. */
export interface TokenStatusQuery {
  clientId: string;
  /** The token's jti. */
  jti: string;
  /** The token's iat, seconds since the epoch. */
  issuedAt: number;
  /** The token's client_key: the id of the client key whose assertion obtained it. */
  keyId: string;
}

/** Why an access token with a valid signature is inactive, for the audit line only (never on the wire). */
export type InactiveReason =
  | "client_unknown"
  | "client_disabled"
  | "key_retired"
  | "key_removed"
  | "token_revoked"
  | "issued_before_cutoff";

export type TokenStatus = { active: true } | { active: false; reason: InactiveReason };

/** RFC 7009: revoke one of the client's access tokens, until the token's own expiry (then it is purged). */
export interface RevokeTokenRequest {
  clientId: string;
  jti: string;
  /** Epoch milliseconds: the token's exp (plus the clock skew), after which it is inactive anyway. */
  retainUntilMs: number;
}

/** Every token issued to the client before `revokedBefore` (epoch seconds: iat below it) is inactive. */
export type RevokeAllResult = { ok: true; revokedBefore: number } | { ok: false; refusal: "unknown" };

/** A change to a client, as the management API asks for it. Records are raw JSON objects until validated. */
export type ClientChange =
  | { kind: "create"; record: Record<string, unknown> }
  | { kind: "replace"; record: Record<string, unknown> }
  /** RFC 7396 JSON merge patch of the current record. */
  | { kind: "patch"; patch: Record<string, unknown> }
  | { kind: "status"; status: "active" | "disabled" }
  | { kind: "add_keys"; keys: unknown[] }
  | { kind: "retire_key"; kid: string }
  | { kind: "restore_key"; kid: string }
  | { kind: "delete" };

/** Who asks for a change, for the record's history and the audit line. */
export interface Actor {
  /** The operator client that authenticated the admin request. */
  clientId: string;
}

/** The authority's view of a client: its current record (null once removed) and version. */
export interface ClientView {
  record: Record<string, unknown> | null;
  version: number;
}

export type ChangeRefusal = "unknown" | "exists" | "version_mismatch" | "invalid";

export type ChangeResult =
  | {
      ok: true;
      /** The record after the change; null after a removal. */
      record: Record<string, unknown> | null;
      version: number;
      /** The version before the change; 0 when there was none. */
      versionBefore: number;
      /** Whether the KV replica was written; if not, the authority retries it from its alarm. */
      replicated: boolean;
    }
  | { ok: false; refusal: ChangeRefusal; detail: string; version: number };

/** What the admin API asks of the operator's authority before serving an admin token. */
export interface OperatorCheck {
  clientId: string;
  /** The id of the key whose assertion obtained the admin token (its `client_key` claim). */
  keyId: string;
  adminAudience: string;
  adminScope: string;
  /** The admin token's jti and iat: a revoked admin token, or one issued before the operator's cut-off, is refused. */
  tokenJti: string;
  issuedAt: number;
}

export type OperatorVerdict = { ok: true } | { ok: false; detail: string };
