// Whether a presented token is an access token this server signed and that has not expired: a bounded compact JWS,
// `typ` at+jwt, signed by one of the keys SIGNING_KEYS still publishes, for this issuer, with the claims
// token/issue-token.ts always sets. Returns its claims, or why it is not one. Crypto only: the clock is passed in,
// no storage, and the token is never logged or copied into an error.
import { errors, jwtVerify } from "jose";
import { type SigningKeySet, verificationKeys } from "../issuer/signing-keys";
import { ACCESS_TOKEN_TYPE, LIMITS, SIGNING_ALGORITHMS } from "../protocol/constants";

/** The claims of an access token this server issued, as introspection reports them. */
export interface OwnTokenClaims {
  iss: string;
  sub: string;
  client_id: string;
  aud: string | string[];
  scope?: string;
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  /** The id of the client key whose assertion obtained the token. */
  client_key: string;
  cnf?: { jkt: string };
}

/** Why a presented token is not an active token of ours, before any state is asked. */
export type NotOwnToken = "token_malformed" | "token_not_ours" | "token_expired";

export type OwnTokenResult = { ok: true; claims: OwnTokenClaims } | { ok: false; why: NotOwnToken };

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/** The claims issue-token.ts sets, each of the right type; anything else was not minted here. */
function ownClaims(payload: Record<string, unknown>): OwnTokenClaims | null {
  const { iss, sub, client_id, aud, scope, exp, iat, nbf, jti, client_key, cnf } = payload;
  if (!nonEmpty(iss) || !nonEmpty(sub) || sub !== client_id || !nonEmpty(jti) || !nonEmpty(client_key)) return null;
  if (typeof exp !== "number" || typeof iat !== "number") return null;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (audiences.length === 0 || !audiences.every(nonEmpty)) return null;
  if (scope !== undefined && typeof scope !== "string") return null;
  if (nbf !== undefined && typeof nbf !== "number") return null;
  const jkt = (cnf as { jkt?: unknown } | undefined)?.jkt;
  if (cnf !== undefined && !nonEmpty(jkt)) return null;
  const claims: OwnTokenClaims = { iss, sub, client_id: sub, aud: aud as string | string[], exp, iat, jti, client_key };
  if (scope !== undefined) claims.scope = scope;
  if (nbf !== undefined) claims.nbf = nbf;
  if (cnf !== undefined) claims.cnf = { jkt: jkt as string };
  return claims;
}

export async function verifyOwnToken(
  token: string,
  keys: SigningKeySet,
  issuer: string,
  now: number,
): Promise<OwnTokenResult> {
  if (token.length > LIMITS.maxPresentedTokenLength || !COMPACT_JWS.test(token))
    return { ok: false, why: "token_malformed" };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, verificationKeys(keys), {
      issuer,
      typ: ACCESS_TOKEN_TYPE,
      algorithms: [...SIGNING_ALGORITHMS],
      requiredClaims: ["exp", "iat", "jti", "sub"],
      currentDate: new Date(now * 1000),
    }));
  } catch (err) {
    // Only a token whose signature verified can be expired: jose checks the times after the signature.
    if (err instanceof errors.JWTExpired) return { ok: false, why: "token_expired" };
    return { ok: false, why: "token_not_ours" };
  }
  const claims = ownClaims(payload);
  return claims ? { ok: true, claims } : { ok: false, why: "token_not_ours" };
}
