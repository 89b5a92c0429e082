// Decodes a DPoP proof (RFC 9449 section 4.2) and checks its header: one `DPoP` header value, bounded, a compact JWS of
// strict JSON, `typ` dpop+jwt, an allowed asymmetric `alg`, and a public `jwk` that fits it. Pure: no I/O, no clock,
// no signature work (signature.ts); the claims are returned untrusted, for claims.ts.
import { decodeBase64url, decodeJsonObjectSegment } from "../lib/strict-json";
import { type AssertionAlgorithm, DPOP_PROOF_TYPE, HEADER_KEY_REFERENCES, LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { type ClientJwk, isAssertionAlgorithm, JwkError, keyFitsAlgorithm, validatePublicJwk } from "../protocol/jwk";
import { isJoseType } from "../protocol/syntax";

export interface DecodedProof {
  compact: string;
  alg: AssertionAlgorithm;
  /** The proof's public key, validated with the rules for client keys, private members refused. */
  jwk: ClientJwk;
  /** The claims set, not yet trusted: signature.ts checks the signature over these exact bytes. */
  claims: Record<string, unknown>;
}

/** RFC 7515 section 4.1.9: `typ` compares case-insensitively, and `application/` may be left out. */
function isProofType(typ: unknown): boolean {
  return typeof typ === "string" && isJoseType(typ, [DPOP_PROOF_TYPE]);
}

/**
 * `value` is the request's `DPoP` header as the runtime joins it: two headers arrive as one value joined by a comma,
 * which no compact JWS contains, so a comma means more than one proof (RFC 9449 section 4.3, check 1).
 */
export function decodeDpopProof(value: string, algorithms: readonly AssertionAlgorithm[]): DecodedProof {
  if (value.includes(",")) throw new TokenServiceError("dpop_proof_multiple");
  const compact = value.trim();
  if (compact.length > LIMITS.maxDpopProofLength) throw new TokenServiceError("dpop_proof_malformed", "too large");
  const parts = compact.split(".");
  if (parts.length !== 3) throw new TokenServiceError("dpop_proof_malformed", "not three segments");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (headerPart.length > Math.ceil((LIMITS.maxDpopHeaderBytes * 4) / 3)) {
    throw new TokenServiceError("dpop_proof_malformed", "header too large");
  }
  const header = decodeJsonObjectSegment(headerPart);
  if (!header) throw new TokenServiceError("dpop_proof_malformed", "header is not a strict JSON object");
  if (!isProofType(header.typ)) throw new TokenServiceError("dpop_typ_invalid");
  if (!isAssertionAlgorithm(header.alg) || !algorithms.includes(header.alg)) {
    throw new TokenServiceError(
      "dpop_alg_not_allowed",
      typeof header.alg === "string" ? `alg ${header.alg.slice(0, 20)}` : "alg missing",
    );
  }
  if ("crit" in header || "b64" in header) throw new TokenServiceError("dpop_proof_malformed", "crit or b64");
  // A proof carries its key in `jwk`; a key named any other way is refused, and a URL in a token is never fetched.
  for (const member of HEADER_KEY_REFERENCES) {
    if (member in header) throw new TokenServiceError("dpop_jwk_invalid", `header member ${member}`);
  }
  if (header.jwk === undefined) throw new TokenServiceError("dpop_jwk_invalid", "no jwk");
  let jwk: ClientJwk;
  try {
    jwk = validatePublicJwk(header.jwk);
  } catch (err) {
    if (err instanceof JwkError) throw new TokenServiceError("dpop_jwk_invalid", err.message);
    throw err;
  }
  if (!keyFitsAlgorithm(jwk, header.alg)) throw new TokenServiceError("dpop_jwk_invalid", "jwk does not fit alg");
  if (!decodeBase64url(signaturePart)) throw new TokenServiceError("dpop_proof_malformed", "signature segment");
  const claims = decodeJsonObjectSegment(payloadPart);
  if (!claims) throw new TokenServiceError("dpop_proof_malformed", "claims set is not a strict JSON object");
  return { compact, alg: header.alg, jwk, claims };
}
