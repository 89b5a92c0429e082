// The one error type of the service: a stable internal reason code from a closed vocabulary, plus private detail for
// the log. wire-errors.ts is the one mapper from a reason to what the client sees. No I/O, no logging.
import { LIMITS } from "./constants";

export type Reason =
  // transport and request grammar
  | "not_found"
  | "method_not_allowed"
  | "insecure_transport"
  | "origin_not_issuer"
  | "credentials_in_query"
  | "unsupported_media_type"
  | "body_too_large"
  | "body_malformed"
  | "too_many_fields"
  | "duplicate_parameter"
  | "grant_type_missing"
  | "grant_type_unsupported"
  | "multiple_auth_methods"
  | "client_secret_not_accepted"
  // client authentication (all map to invalid_client)
  | "client_assertion_missing"
  | "client_assertion_type_unsupported"
  | "assertion_too_large"
  | "assertion_malformed"
  | "assertion_encrypted"
  | "header_invalid"
  | "alg_not_allowed"
  | "typ_not_allowed"
  | "crit_not_supported"
  | "header_key_material"
  | "claims_invalid"
  | "iss_sub_mismatch"
  | "client_id_mismatch"
  | "aud_invalid"
  | "exp_missing"
  | "expired"
  | "not_yet_valid"
  | "iat_in_future"
  | "lifetime_too_long"
  | "jti_missing"
  | "client_unknown"
  | "client_disabled"
  | "client_record_invalid"
  | "no_matching_key"
  | "jwks_uri_unavailable"
  | "signature_invalid"
  | "replayed"
  | "key_retired"
  | "rate_limited"
  // workload identity federation: an external token in place of a client assertion (invalid_client, or
  // invalid_grant for the RFC 7523 section 2.1 grant)
  | "federated_client_id_missing"
  | "federated_trust_missing"
  | "federated_subject_mismatch"
  | "federated_audience_mismatch"
  | "federated_claim_mismatch"
  | "federated_iat_missing"
  | "federated_token_too_old"
  | "federated_jti_missing"
  | "federated_issuer_unavailable"
  // DPoP proofs (RFC 9449): invalid_dpop_proof, or use_dpop_nonce
  | "dpop_proof_required"
  | "dpop_proof_multiple"
  | "dpop_proof_malformed"
  | "dpop_typ_invalid"
  | "dpop_alg_not_allowed"
  | "dpop_jwk_invalid"
  | "dpop_claims_invalid"
  | "dpop_htm_mismatch"
  | "dpop_htu_mismatch"
  | "dpop_iat_invalid"
  | "dpop_ath_mismatch"
  | "dpop_signature_invalid"
  | "dpop_replayed"
  | "dpop_nonce_invalid"
  // resource server (RFC 6750, RFC 9449 section 7): the verifier of src/resource-server/
  | "rs_token_missing"
  | "rs_authorization_invalid"
  | "rs_token_malformed"
  | "rs_token_typ_invalid"
  | "rs_token_alg_not_allowed"
  | "rs_token_signature_invalid"
  | "rs_token_issuer_invalid"
  | "rs_token_audience_invalid"
  | "rs_token_expired"
  | "rs_token_not_yet_valid"
  | "rs_token_claims_invalid"
  | "rs_token_bound_needs_dpop"
  | "rs_token_not_bound"
  | "rs_dpop_proof_missing"
  | "rs_dpop_key_mismatch"
  | "rs_scope_insufficient"
  | "rs_jwks_unavailable"
  | "rs_token_inactive"
  | "rs_introspection_unavailable"
  // revocation (RFC 7009) and introspection (RFC 7662), after the caller authenticated
  | "token_parameter_missing"
  | "revocation_not_owner"
  | "introspection_not_allowed"
  // grant authorization
  | "scope_malformed"
  | "scope_not_allowed"
  | "resource_invalid"
  | "resource_not_allowed"
  | "admin_audience_not_alone"
  // admin API (RFC 6750 bearer token errors)
  | "admin_token_missing"
  | "admin_token_invalid"
  | "admin_scope_missing"
  | "admin_client_unknown"
  | "admin_request_invalid"
  | "admin_client_exists"
  | "admin_version_mismatch"
  // the service itself
  | "config_invalid"
  | "replay_guard_unavailable"
  | "registry_unavailable"
  | "internal_error";

/**
 * Runs a call to a storage binding (KV, a Durable Object) and turns its failure into `reason` (a 503 with
 * Retry-After), so an outage is never a 500. Refusals thrown by `work` itself pass through unchanged.
 */
export async function whileAvailable<T>(
  reason: "registry_unavailable" | "replay_guard_unavailable",
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TokenServiceError) throw err;
    throw new TokenServiceError(
      reason,
      err instanceof Error ? err.message.slice(0, LIMITS.maxLogDetailLength) : undefined,
      { cause: err },
    );
  }
}

export interface TokenServiceErrorOptions {
  /** Seconds for a Retry-After header (rate limiting, unavailability). */
  retryAfterSeconds?: number;
  /**
   * Response headers the refusal needs: a WWW-Authenticate challenge for a client that tried HTTP authentication
   * (RFC 6749 section 5.2), Allow for a wrong method, an ETag.
   */
  headers?: Record<string, string>;
  /**
   * What went wrong, for the wire, in place of the fixed description: only for an operator the admin API has
   * already authenticated (a record that fails validation, say). Never on the token endpoint, which tells nobody why.
   */
  publicDetail?: string;
  cause?: unknown;
}

/** An expected refusal or failure. `detail` is for the log only and must never hold keys, tokens or assertions. */
export class TokenServiceError extends Error {
  readonly reason: Reason;
  readonly detail: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly publicDetail: string | undefined;

  constructor(reason: Reason, detail?: string, options: TokenServiceErrorOptions = {}) {
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TokenServiceError";
    this.reason = reason;
    this.detail = detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
    this.publicDetail = options.publicDetail;
  }
}
