// Checks a DPoP proof's claims (RFC 9449 section 4.2 and 4.3): `jti`, `htm`, `htu` and `iat` present and well typed;
// `htm` the request's method, `htu` its URI, `iat` within the window; `ath` the hash of the access token when one is
// presented (section 4.3, check 11). Pure: the clock is an argument; no I/O. The nonce is the caller's (nonce.ts).
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { isNumericDate } from "../protocol/syntax";
import { htuMatches } from "./htu";

export interface ProofExpectations {
  /** The request's method: POST at the token endpoint. */
  method: string;
  /** The URI the proof must name: the configured token endpoint, never a Host header. */
  uri: string;
  /** Seconds since the epoch. */
  now: number;
  /** How far `iat` may lie in the past (DPOP_PROOF_MAX_AGE). */
  maxAgeSeconds: number;
  /** Tolerated clock difference, both ways (CLOCK_SKEW). */
  skewSeconds: number;
  /** base64url SHA-256 of the access token sent with the proof (a resource request); absent at the token endpoint. */
  accessTokenHash?: string;
}

export interface ProofClaims {
  jti: string;
  iat: number;
  nonce?: string;
}

export function checkDpopClaims(claims: Record<string, unknown>, expected: ProofExpectations): ProofClaims {
  const { jti, htm, htu, iat, nonce, ath } = claims;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > LIMITS.maxDpopJtiLength) {
    throw new TokenServiceError("dpop_claims_invalid", "jti is not a bounded non-empty string");
  }
  if (typeof htm !== "string") throw new TokenServiceError("dpop_claims_invalid", "htm is not a string");
  if (typeof htu !== "string" || htu.length > LIMITS.maxDpopHtuLength) {
    throw new TokenServiceError("dpop_claims_invalid", "htu is not a bounded string");
  }
  if (!isNumericDate(iat)) throw new TokenServiceError("dpop_claims_invalid", "iat is not a NumericDate");
  if (nonce !== undefined && typeof nonce !== "string") {
    throw new TokenServiceError("dpop_claims_invalid", "nonce is not a string");
  }
  if (htm !== expected.method) throw new TokenServiceError("dpop_htm_mismatch");
  if (!htuMatches(htu, expected.uri)) throw new TokenServiceError("dpop_htu_mismatch");
  if (iat > expected.now + expected.skewSeconds) throw new TokenServiceError("dpop_iat_invalid", "iat in the future");
  if (iat < expected.now - expected.maxAgeSeconds - expected.skewSeconds) {
    throw new TokenServiceError("dpop_iat_invalid", "iat too old");
  }
  if (expected.accessTokenHash !== undefined && ath !== expected.accessTokenHash) {
    throw new TokenServiceError("dpop_ath_mismatch", ath === undefined ? "ath missing" : "ath does not match");
  }
  return nonce === undefined ? { jti, iat } : { jti, iat, nonce };
}
