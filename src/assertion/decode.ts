// Splits a client assertion and checks its JOSE header: size, shape, algorithm allowlist, explicit type,
// no `crit`, no key material or key URLs. Pure: no I/O, no clock, no signature work (see signature.ts).

import { decodeBase64url, decodeJsonObjectSegment } from "../lib/strict-json";
import {
  ASSERTION_ALGORITHMS,
  ASSERTION_TYPES,
  type AssertionAlgorithm,
  FORBIDDEN_ASSERTION_HEADERS,
  LIMITS,
} from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { isAssertionAlgorithm } from "../protocol/jwk";
import { isJoseType } from "../protocol/syntax";

export interface AssertionHeader {
  alg: AssertionAlgorithm;
  kid?: string;
}

export interface DecodedAssertion {
  header: AssertionHeader;
  /** The claims set, not yet trusted: signature.ts checks the signature over these exact bytes. */
  claims: Record<string, unknown>;
}

/** True for an explicit `typ` this endpoint accepts (RFC 7515 4.1.9: case-insensitive, `application/` optional). */
export function isAcceptedAssertionType(typ: string): boolean {
  return isJoseType(typ, ASSERTION_TYPES);
}

/** `algorithms`: those the profile accepts (every asymmetric one by default; FAPI 2.0's three under PROFILE=fapi2). */
export function decodeAssertion(
  compact: string,
  algorithms: readonly AssertionAlgorithm[] = ASSERTION_ALGORITHMS,
): DecodedAssertion {
  if (compact.length > LIMITS.maxAssertionLength) throw new TokenServiceError("assertion_too_large");
  const parts = compact.split(".");
  if (parts.length === 5) throw new TokenServiceError("assertion_encrypted", "JWE compact serialisation");
  if (parts.length !== 3) throw new TokenServiceError("assertion_malformed", "not three segments");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (headerPart.length > Math.ceil((LIMITS.maxAssertionHeaderBytes * 4) / 3)) {
    throw new TokenServiceError("header_invalid", "header too large");
  }
  const raw = decodeJsonObjectSegment(headerPart);
  if (!raw) throw new TokenServiceError("header_invalid", "header is not a strict JSON object");

  if ("enc" in raw || "zip" in raw) throw new TokenServiceError("assertion_encrypted", "JWE header members");
  if (!isAssertionAlgorithm(raw.alg) || !algorithms.includes(raw.alg)) {
    throw new TokenServiceError(
      "alg_not_allowed",
      typeof raw.alg === "string" ? `alg ${raw.alg.slice(0, 20)}` : "alg missing",
    );
  }
  if ("crit" in raw || "b64" in raw) throw new TokenServiceError("crit_not_supported");
  for (const member of FORBIDDEN_ASSERTION_HEADERS) {
    if (member in raw) throw new TokenServiceError("header_key_material", `header member ${member}`);
  }
  if (raw.typ !== undefined) {
    if (typeof raw.typ !== "string" || !isAcceptedAssertionType(raw.typ)) {
      throw new TokenServiceError(
        "typ_not_allowed",
        typeof raw.typ === "string" ? `typ ${raw.typ.slice(0, 40)}` : "typ not a string",
      );
    }
  }
  const header: AssertionHeader = { alg: raw.alg };
  if (raw.kid !== undefined) {
    if (typeof raw.kid !== "string" || raw.kid.length === 0 || raw.kid.length > LIMITS.maxKidLength) {
      throw new TokenServiceError("header_invalid", "kid is not a bounded string");
    }
    header.kid = raw.kid;
  }

  if (!decodeBase64url(signaturePart)) throw new TokenServiceError("assertion_malformed", "signature segment");
  const claims = decodeJsonObjectSegment(payloadPart);
  if (!claims) throw new TokenServiceError("claims_invalid", "claims set is not a strict JSON object");
  return { header, claims };
}
