// The one mapping from an internal reason code to the RFC 6749 section 5.2 wire error (error-response.ts builds the
// JSON response from it). Wire descriptions are fixed strings: they never echo input, and every client-authentication
// failure reads the same, so a prober learns nothing. No I/O, no logging.
import type { Reason } from "./errors";

export interface WireError {
  status: 400 | 401 | 403 | 404 | 405 | 409 | 412 | 413 | 421 | 429 | 500 | 503;
  error: string;
  description: string;
}

const CLIENT_AUTH_FAILED: WireError = {
  status: 401,
  error: "invalid_client",
  description: "Client authentication failed",
};

const invalidRequest = (description: string): WireError => ({ status: 400, error: "invalid_request", description });

/** The single mapping from internal reason to what goes on the wire. Exhaustive: a new reason must be placed. */
export function wireErrorFor(reason: Reason): WireError {
  switch (reason) {
    case "not_found":
      return { status: 404, error: "invalid_request", description: "No such endpoint" };
    case "method_not_allowed":
      return { status: 405, error: "invalid_request", description: "Method not allowed on this endpoint" };
    case "insecure_transport":
      return invalidRequest("Use https");
    case "origin_not_issuer":
      return { status: 421, error: "invalid_request", description: "This server answers only at its issuer's origin" };
    case "credentials_in_query":
      return invalidRequest("Send credentials and tokens in the request body or a header, never in the URL");
    case "unsupported_media_type":
      return invalidRequest("The request body must be application/x-www-form-urlencoded");
    case "body_too_large":
      return { status: 413, error: "invalid_request", description: "The request body is too large" };
    case "body_malformed":
      return invalidRequest("The request body is not a valid form");
    case "too_many_fields":
      return invalidRequest("The request has too many parameters");
    case "duplicate_parameter":
      return invalidRequest("A request parameter was repeated");
    case "grant_type_missing":
      return invalidRequest("The grant_type parameter is required");
    case "grant_type_unsupported":
      return {
        status: 400,
        error: "unsupported_grant_type",
        description: "Only the client_credentials and jwt-bearer grants are supported",
      };
    case "multiple_auth_methods":
      return invalidRequest("Use exactly one client authentication method");
    case "client_secret_not_accepted":
      // An authentication method this server does not support: invalid_client (RFC 6749 section 5.2).
      return {
        status: 401,
        error: "invalid_client",
        description: "Client secrets are not accepted; authenticate with private_key_jwt",
      };
    case "client_assertion_missing":
    case "client_assertion_type_unsupported":
    case "assertion_too_large":
    case "assertion_malformed":
    case "assertion_encrypted":
    case "header_invalid":
    case "alg_not_allowed":
    case "typ_not_allowed":
    case "crit_not_supported":
    case "header_key_material":
    case "claims_invalid":
    case "iss_sub_mismatch":
    case "client_id_mismatch":
    case "aud_invalid":
    case "exp_missing":
    case "expired":
    case "not_yet_valid":
    case "iat_in_future":
    case "lifetime_too_long":
    case "jti_missing":
    case "client_unknown":
    case "client_disabled":
    case "client_record_invalid":
    case "no_matching_key":
    case "jwks_uri_unavailable":
    case "signature_invalid":
    case "replayed":
    case "key_retired":
    case "federated_client_id_missing":
    case "federated_trust_missing":
    case "federated_subject_mismatch":
    case "federated_audience_mismatch":
    case "federated_claim_mismatch":
    case "federated_iat_missing":
    case "federated_token_too_old":
    case "federated_jti_missing":
    case "federated_issuer_unavailable":
      return CLIENT_AUTH_FAILED;
    case "dpop_proof_required":
      return { status: 400, error: "invalid_dpop_proof", description: "A DPoP proof is required for this client" };
    case "dpop_proof_multiple":
    case "dpop_proof_malformed":
    case "dpop_typ_invalid":
    case "dpop_alg_not_allowed":
    case "dpop_jwk_invalid":
    case "dpop_claims_invalid":
    case "dpop_htm_mismatch":
    case "dpop_htu_mismatch":
    case "dpop_iat_invalid":
    case "dpop_ath_mismatch":
    case "dpop_signature_invalid":
    case "dpop_replayed":
      return { status: 400, error: "invalid_dpop_proof", description: "The DPoP proof is invalid" };
    case "dpop_nonce_invalid":
      // RFC 9449 section 8: the response carries a fresh nonce in DPoP-Nonce (set by the step that refused).
      return { status: 400, error: "use_dpop_nonce", description: "Authorization server requires nonce in DPoP proof" };
    case "rate_limited":
      return {
        status: 429,
        error: "temporarily_unavailable",
        description: "Too many token requests for this client, retry later",
      };
    case "scope_malformed":
    case "scope_not_allowed":
      return { status: 400, error: "invalid_scope", description: "The requested scope is invalid or not allowed" };
    case "resource_invalid":
    case "resource_not_allowed":
    case "admin_audience_not_alone":
      return {
        status: 400,
        error: "invalid_target",
        description: "The requested resource is invalid or not allowed",
      };
    case "admin_token_missing":
      return { status: 401, error: "invalid_request", description: "A bearer access token is required" };
    case "admin_token_invalid":
      return { status: 401, error: "invalid_token", description: "The access token is invalid" };
    case "admin_scope_missing":
      return { status: 403, error: "insufficient_scope", description: "The access token lacks the admin scope" };
    case "admin_client_unknown":
      return { status: 404, error: "invalid_request", description: "No such client" };
    case "admin_request_invalid":
      return invalidRequest("The admin request cannot be applied");
    case "admin_client_exists":
      return { status: 409, error: "invalid_request", description: "The client already exists" };
    case "admin_version_mismatch":
      return {
        status: 412,
        error: "invalid_request",
        description: "The client changed since the version named in If-Match",
      };
    // The resource-server verifier. Its challenge.ts adds the WWW-Authenticate challenge and answers 401 where
    // RFC 9449 section 7.1 wants it for a DPoP failure.
    case "rs_token_missing":
      return { status: 401, error: "invalid_request", description: "An access token is required" };
    case "rs_authorization_invalid":
      return invalidRequest(
        "Send exactly one access token, in one Authorization header with the Bearer or DPoP scheme",
      );
    case "rs_token_malformed":
    case "rs_token_typ_invalid":
    case "rs_token_alg_not_allowed":
    case "rs_token_signature_invalid":
    case "rs_token_issuer_invalid":
    case "rs_token_audience_invalid":
    case "rs_token_not_yet_valid":
    case "rs_token_claims_invalid":
      return { status: 401, error: "invalid_token", description: "The access token is invalid" };
    case "rs_token_expired":
      return { status: 401, error: "invalid_token", description: "The access token expired" };
    case "rs_token_bound_needs_dpop":
      return {
        status: 401,
        error: "invalid_token",
        description: "The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof",
      };
    case "rs_token_not_bound":
      return {
        status: 401,
        error: "invalid_token",
        description: "The access token is not DPoP-bound: send it with the Bearer scheme",
      };
    case "rs_dpop_key_mismatch":
      return { status: 401, error: "invalid_token", description: "Invalid DPoP key binding" };
    case "rs_dpop_proof_missing":
      return { status: 401, error: "invalid_dpop_proof", description: "A DPoP proof is required" };
    case "rs_scope_insufficient":
      return {
        status: 403,
        error: "insufficient_scope",
        description: "The access token lacks a scope this resource requires",
      };
    case "rs_jwks_unavailable":
      return {
        status: 503,
        error: "temporarily_unavailable",
        description: "The issuer's keys are unavailable, retry later",
      };
    case "rs_token_inactive":
      // Online mode: the issuer's introspection endpoint says the token is revoked or its client is killed.
      return { status: 401, error: "invalid_token", description: "The access token is no longer active" };
    case "rs_introspection_unavailable":
      return {
        status: 503,
        error: "temporarily_unavailable",
        description: "The issuer's introspection endpoint is unavailable, retry later",
      };
    case "token_parameter_missing":
      return invalidRequest("The token parameter is required");
    case "revocation_not_owner":
      // RFC 7009 section 2.1: refused, and the token stays active. Nothing says whose it is.
      return {
        status: 400,
        error: "unauthorized_client",
        description: "A client may revoke only the tokens issued to it",
      };
    case "introspection_not_allowed":
      return {
        status: 403,
        error: "unauthorized_client",
        description: "This client is not allowed to use the introspection endpoint",
      };
    case "config_invalid":
      return { status: 500, error: "server_error", description: "The service is misconfigured" };
    case "replay_guard_unavailable":
    case "registry_unavailable":
      return {
        status: 503,
        error: "temporarily_unavailable",
        description: "The service is temporarily unavailable, retry later",
      };
    case "internal_error":
      return { status: 500, error: "server_error", description: "Unexpected server error" };
    default: {
      const unreachable: never = reason;
      return unreachable;
    }
  }
}
