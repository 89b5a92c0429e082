// Validates a client assertion's claims set against the audience policy and the clock (RFC 7523 section 3,
// OpenID Connect Core section 9, RFC 10070). Pure: the caller passes `now`; no I/O.
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { isNumericDate, isValidClientId } from "../protocol/syntax";
import { type AudiencePolicy, checkAudienceValue } from "./audience";

/** The audience rule (RFC 10070: the issuer as the sole value) and the time bounds. */
export interface AssertionPolicy extends AudiencePolicy {
  /** Seconds of tolerated clock difference for exp, nbf and iat. */
  clockSkew: number;
  /** Longest accepted lifetime in seconds, measured as exp - iat and as exp - now. */
  maxLifetime: number;
}

export interface AssertionClaims {
  /** The client the assertion speaks for (iss = sub). */
  clientId: string;
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The accepted audience value the assertion carried. */
  aud: string;
}

/**
 * Checks, in order: claim types, required claims, iss = sub, the client_id parameter, audience, then time.
 * `clientIdParam` is the request's client_id parameter when one was sent.
 */
export function validateAssertionClaims(
  claims: Record<string, unknown>,
  policy: AssertionPolicy,
  now: number,
  clientIdParam?: string,
): AssertionClaims {
  const { iss, sub, aud, exp, nbf, iat, jti } = claims;

  if (iss === undefined || sub === undefined) throw new TokenServiceError("claims_invalid", "iss and sub are required");
  if (!isValidClientId(iss) || !isValidClientId(sub)) {
    throw new TokenServiceError("claims_invalid", "iss or sub is not a valid client_id");
  }
  if (aud === undefined) throw new TokenServiceError("aud_invalid", "aud missing");
  if (exp === undefined) throw new TokenServiceError("exp_missing");
  if (!isNumericDate(exp)) throw new TokenServiceError("claims_invalid", "exp is not a NumericDate");
  if (nbf !== undefined && !isNumericDate(nbf))
    throw new TokenServiceError("claims_invalid", "nbf is not a NumericDate");
  if (iat !== undefined && !isNumericDate(iat))
    throw new TokenServiceError("claims_invalid", "iat is not a NumericDate");
  if (jti === undefined) throw new TokenServiceError("jti_missing");
  if (typeof jti !== "string" || jti.length === 0 || jti.length > LIMITS.maxJtiLength) {
    throw new TokenServiceError("claims_invalid", "jti is not a bounded non-empty string");
  }

  if (iss !== sub) throw new TokenServiceError("iss_sub_mismatch");
  if (clientIdParam !== undefined && clientIdParam !== iss) throw new TokenServiceError("client_id_mismatch");

  const audience = checkAudienceValue(aud, policy);

  if (now - policy.clockSkew >= exp) throw new TokenServiceError("expired");
  if (nbf !== undefined && nbf > now + policy.clockSkew) throw new TokenServiceError("not_yet_valid");
  if (iat !== undefined && iat > now + policy.clockSkew) throw new TokenServiceError("iat_in_future");
  if (exp - now > policy.maxLifetime + policy.clockSkew) {
    throw new TokenServiceError("lifetime_too_long", "exp too far in the future");
  }
  if (iat !== undefined && exp - iat > policy.maxLifetime) {
    throw new TokenServiceError("lifetime_too_long", "exp - iat exceeds the cap");
  }
  return { clientId: iss, jti, exp, aud: audience };
}
