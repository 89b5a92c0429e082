// The checks of an RFC 9068 JWT access token that need no key: its compact form and strict JSON segments, its header
// (`typ` at+jwt, an allowed `alg`, a `kid`, no `crit`, no key or key URL) and its claims (`iss`, `aud`, `exp`, `nbf`,
// `iat`, `sub` = `client_id`, `jti`, `scope`, `cnf`). Pure: the clock is an argument; no I/O, no crypto, no logging.
import { decodeBase64url, decodeJsonObjectSegment } from "../lib/strict-json";
import { ACCESS_TOKEN_TYPE, HEADER_KEY_REFERENCES, LIMITS, type SigningAlgorithm } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { isJoseType, isNumericDate } from "../protocol/syntax";
import { RESOURCE_SERVER } from "./limits";

export interface DecodedAccessToken {
  alg: SigningAlgorithm;
  kid: string;
  /** The claims set, not yet trusted: token-signature.ts checks the signature over these exact bytes. */
  claims: Record<string, unknown>;
}

export interface ClaimExpectations {
  /** The issuer, compared as an exact string. */
  issuer: string;
  /** This resource server's audience, compared as an exact string. */
  audience: string;
  /** Seconds since the epoch. */
  now: number;
  /** Tolerated clock difference, both ways. */
  skewSeconds: number;
}

export interface AccessTokenClaims {
  clientId: string;
  scope: string[];
  /** `cnf.jkt`: the thumbprint of the DPoP key the token is bound to (RFC 9449 section 6.1). */
  jkt?: string;
}

/** Header members that name a key: the keys are the issuer's JWKS from configuration, never the token's. */
const KEY_MEMBERS = ["jwk", ...HEADER_KEY_REFERENCES] as const;

/** RFC 9068 section 4 with RFC 7515 section 4.1.9: `typ` compares case-insensitively, `application/` may be left out. */
export function isAccessTokenType(typ: unknown): boolean {
  return typeof typ === "string" && isJoseType(typ, [ACCESS_TOKEN_TYPE]);
}

/** Decodes the token and checks its header. Throws rs_token_malformed, rs_token_typ_invalid, rs_token_alg_not_allowed. */
export function decodeAccessToken(token: string, algorithms: readonly SigningAlgorithm[]): DecodedAccessToken {
  const parts = token.split(".");
  if (parts.length !== 3) throw new TokenServiceError("rs_token_malformed", "not three segments");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (headerPart.length > Math.ceil((RESOURCE_SERVER.maxAccessTokenHeaderBytes * 4) / 3)) {
    throw new TokenServiceError("rs_token_malformed", "header too large");
  }
  const header = decodeJsonObjectSegment(headerPart);
  if (!header) throw new TokenServiceError("rs_token_malformed", "header is not a strict JSON object");
  if (!isAccessTokenType(header.typ)) throw new TokenServiceError("rs_token_typ_invalid");
  if (typeof header.alg !== "string" || !(algorithms as readonly string[]).includes(header.alg)) {
    throw new TokenServiceError(
      "rs_token_alg_not_allowed",
      typeof header.alg === "string" ? "alg not allowed" : "no alg",
    );
  }
  if ("crit" in header || "b64" in header) throw new TokenServiceError("rs_token_malformed", "crit or b64");
  for (const member of KEY_MEMBERS) {
    if (member in header) throw new TokenServiceError("rs_token_malformed", `header member ${member}`);
  }
  const { kid } = header;
  if (typeof kid !== "string" || kid.length === 0 || kid.length > LIMITS.maxKidLength) {
    throw new TokenServiceError("rs_token_malformed", "kid is not a bounded non-empty string");
  }
  if (!decodeBase64url(signaturePart)) throw new TokenServiceError("rs_token_malformed", "signature segment");
  const claims = decodeJsonObjectSegment(payloadPart);
  if (!claims) throw new TokenServiceError("rs_token_malformed", "claims set is not a strict JSON object");
  return { alg: header.alg as SigningAlgorithm, kid, claims };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** `aud` names this resource server: the string itself, or an array holding it. Exact comparison, never a prefix. */
export function audienceIncludes(aud: unknown, audience: string): boolean {
  if (typeof aud === "string") return aud === audience;
  return Array.isArray(aud) && aud.some((entry) => entry === audience);
}

/** RFC 9068 section 4: the claims this resource server relies on. Throws a rs_token_* reason. */
export function checkAccessTokenClaims(
  claims: Record<string, unknown>,
  expected: ClaimExpectations,
): AccessTokenClaims {
  const { iss, aud, exp, nbf, iat, sub, client_id: clientId, jti, scope, cnf } = claims;
  if (iss !== expected.issuer) throw new TokenServiceError("rs_token_issuer_invalid");
  if (!audienceIncludes(aud, expected.audience)) throw new TokenServiceError("rs_token_audience_invalid");
  if (!isNumericDate(exp)) throw new TokenServiceError("rs_token_claims_invalid", "exp is not a NumericDate");
  if (!isNumericDate(iat)) throw new TokenServiceError("rs_token_claims_invalid", "iat is not a NumericDate");
  if (nbf !== undefined && !isNumericDate(nbf)) {
    throw new TokenServiceError("rs_token_claims_invalid", "nbf is not a NumericDate");
  }
  if (exp <= expected.now - expected.skewSeconds) throw new TokenServiceError("rs_token_expired");
  if (iat > expected.now + expected.skewSeconds) throw new TokenServiceError("rs_token_not_yet_valid", "iat");
  if (nbf !== undefined && nbf > expected.now + expected.skewSeconds) {
    throw new TokenServiceError("rs_token_not_yet_valid", "nbf");
  }
  if (!isNonEmptyString(sub) || sub !== clientId) {
    throw new TokenServiceError("rs_token_claims_invalid", "sub and client_id are not the same string");
  }
  if (!isNonEmptyString(jti)) throw new TokenServiceError("rs_token_claims_invalid", "jti");
  if (scope !== undefined && typeof scope !== "string") {
    throw new TokenServiceError("rs_token_claims_invalid", "scope is not a string");
  }
  const scopes = typeof scope === "string" ? scope.split(" ").filter((s) => s !== "") : [];
  if (cnf === undefined) return { clientId: sub, scope: scopes };
  // A confirmation this verifier cannot check (mTLS's x5t#S256, say) is refused, never ignored.
  const jkt = typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>).jkt : undefined;
  if (!isNonEmptyString(jkt)) throw new TokenServiceError("rs_token_claims_invalid", "cnf without a jkt");
  return { clientId: sub, scope: scopes, jkt };
}
