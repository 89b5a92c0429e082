// Example for docs/clients.md: how a resource server checks an issued access token, with jose createRemoteJWKSet
// on the served jwks_uri (issuer, audience, typ at+jwt). The suite verifies every token it gets this way.
import { createRemoteJWKSet, jwtVerify, type JWTVerifyResult } from "jose";

export async function verifyAccessToken(issuer: string, accessToken: unknown, audience: string): Promise<JWTVerifyResult> {
  if (typeof accessToken !== "string") throw new Error("the response holds no access_token");
  const metadataResponse = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  const metadata = (await metadataResponse.json()) as { jwks_uri: string };
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri)); // in a real server: create once, reuse
  return jwtVerify(accessToken, jwks, { issuer, audience, typ: "at+jwt" });
}
