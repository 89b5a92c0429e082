// Mints RFC 9068 JWT access tokens with the active signing key. Takes `now` from the caller; no storage,
// no logging (the token never leaves this module except in the response).
import { SignJWT } from "jose";
import type { SigningKey } from "../issuer/signing-keys";
import { ACCESS_TOKEN_TYPE } from "../protocol/constants";
import type { GrantDecision } from "./authorize-grant";

export interface MintedToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
  jti: string;
  exp: number;
}

/** Who the token is for: the client, and the id of the key whose assertion obtained it (claim `client_key`). */
export interface TokenSubject {
  clientId: string;
  keyId: string;
  /** The DPoP proof key's thumbprint: the token is bound to it (`cnf.jkt`, RFC 9449 section 6.1). */
  jkt?: string;
}

export async function mintAccessToken(
  key: SigningKey,
  issuer: string,
  subject: TokenSubject,
  grant: GrantDecision,
  now: number,
): Promise<MintedToken> {
  const jti = crypto.randomUUID();
  const scope = grant.scopes.join(" ");
  const clientId = subject.clientId;
  // client_key lets the admin API (and revocation) refuse a token once the key that obtained it is retired.
  const claims: Record<string, unknown> = { client_id: clientId, client_key: subject.keyId };
  if (scope) claims.scope = scope;
  if (subject.jkt !== undefined) claims.cnf = { jkt: subject.jkt };
  const accessToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(issuer)
    .setSubject(clientId)
    .setAudience(grant.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + grant.ttl)
    .setJti(jti)
    .sign(key.privateKey);
  return { accessToken, expiresIn: grant.ttl, scope, jti, exp: now + grant.ttl };
}
