// Verifies an issued access token the way a resource server would: jose createRemoteJWKSet on the served
// jwks_uri (from the metadata), with issuer, audience and typ at+jwt checked. Never trusts anything unverified.
import { createRemoteJWKSet, jwtVerify, type JWTVerifyResult } from "jose";

export async function verifyAccessToken(issuer: string, token: unknown, audience: string): Promise<JWTVerifyResult> {
  if (typeof token !== "string") throw new Error(`no access token in the response: ${JSON.stringify(token)}`);
  const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as { jwks_uri: string };
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  return jwtVerify(token, jwks, { issuer, audience, typ: "at+jwt" });
}
