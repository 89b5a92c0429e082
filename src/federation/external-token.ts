// The claims of an external token (a CI job's OIDC token, a Kubernetes service-account token, a SPIFFE JWT-SVID)
// against the client's federated trusts: which trust its issuer and subject select, then its audience, times, age,
// jti and claim conditions. Pure: the caller passes `now`; no I/O, no signature work (the signature is checked after,
// against the issuer's keys), and nothing here trusts a claim before the trust it selects says how.
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { FEDERATION } from "../protocol/federation";
import { isNumericDate } from "../protocol/syntax";
import type { FederatedTrust } from "../registry/federated-trust";

export interface ExternalTokenPolicy {
  /** The audience a trust without its own requires: this server's ISSUER. */
  defaultAudience: string;
  clockSkew: number;
}

export interface CheckedExternalToken {
  trust: FederatedTrust;
  /** The token's jti; absent only under a trust with allow_reuse. */
  jti?: string;
  exp: number;
  /** Seconds since the epoch until which the token passes these checks: its exp, or iat + max_age if sooner. */
  validUntil: number;
}

/** The trust the token's iss and sub select: the issuer first (no trust for it), then the exact subject. */
export function selectTrust(trusts: readonly FederatedTrust[], claims: Record<string, unknown>): FederatedTrust {
  const { iss, sub } = claims;
  if (typeof iss !== "string" || typeof sub !== "string") throw new TokenServiceError("claims_invalid", "iss and sub");
  const forIssuer = trusts.filter((trust) => trust.issuer === iss);
  if (forIssuer.length === 0) throw new TokenServiceError("federated_trust_missing", "no trust for this issuer");
  const trust = forIssuer.find((candidate) => candidate.subject === sub);
  if (!trust) throw new TokenServiceError("federated_subject_mismatch");
  return trust;
}

/**
 * The claim a dotted path names: `a.b.c` is member `c` of `b` of `a`, where a member name may itself hold dots
 * (`kubernetes.io.namespace` is `namespace` in `kubernetes.io`). Own members only, never the prototype's.
 */
export function claimAt(value: unknown, path: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  if (Object.hasOwn(value, path)) return (value as Record<string, unknown>)[path];
  for (let dot = path.indexOf("."); dot > 0; dot = path.indexOf(".", dot + 1)) {
    const head = path.slice(0, dot);
    if (Object.hasOwn(value, head)) {
      const found = claimAt((value as Record<string, unknown>)[head], path.slice(dot + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The audience, the clock (exp, nbf, iat, age), the jti and the claim conditions, in that order. */
export function checkExternalClaims(
  claims: Record<string, unknown>,
  trust: FederatedTrust,
  policy: ExternalTokenPolicy,
  now: number,
): CheckedExternalToken {
  const { aud, exp, nbf, iat, jti } = claims;
  const audience = trust.audience ?? policy.defaultAudience;
  // Its only audience: a token minted for several could be replayed here by any of them.
  const single = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  if (single !== audience) throw new TokenServiceError("federated_audience_mismatch");

  if (exp === undefined) throw new TokenServiceError("exp_missing");
  if (!isNumericDate(exp)) throw new TokenServiceError("claims_invalid", "exp is not a NumericDate");
  if (nbf !== undefined && !isNumericDate(nbf))
    throw new TokenServiceError("claims_invalid", "nbf is not a NumericDate");
  if (now - policy.clockSkew >= exp) throw new TokenServiceError("expired");
  if (nbf !== undefined && nbf > now + policy.clockSkew) throw new TokenServiceError("not_yet_valid");
  if (iat === undefined) throw new TokenServiceError("federated_iat_missing");
  if (!isNumericDate(iat)) throw new TokenServiceError("claims_invalid", "iat is not a NumericDate");
  if (iat > now + policy.clockSkew) throw new TokenServiceError("iat_in_future");
  const maxAge = trust.max_age ?? FEDERATION.defaultMaxAgeSeconds;
  if (now - iat > maxAge + policy.clockSkew) throw new TokenServiceError("federated_token_too_old");

  if (jti !== undefined && (typeof jti !== "string" || jti.length === 0 || jti.length > LIMITS.maxJtiLength))
    throw new TokenServiceError("claims_invalid", "jti is not a bounded non-empty string");
  if (jti === undefined && trust.allow_reuse !== true) throw new TokenServiceError("federated_jti_missing");

  for (const [name, expected] of Object.entries(trust.claims ?? {})) {
    if (claimAt(claims, name) !== expected)
      throw new TokenServiceError("federated_claim_mismatch", `claim ${name.slice(0, 60)}`);
  }
  const checked: CheckedExternalToken = { trust, exp, validUntil: Math.min(exp, iat + maxAge) };
  if (typeof jti === "string") checked.jti = jti;
  return checked;
}
