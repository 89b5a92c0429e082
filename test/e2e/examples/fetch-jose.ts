// Example for docs/clients.md: a client_credentials token with plain fetch and a client assertion built by jose.
// Reads the token endpoint from the RFC 8414 metadata; aud is the issuer string, exactly as the metadata gives it.
import { SignJWT, type CryptoKey } from "jose";

export async function getTokenWithFetch(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string;
  privateKey: CryptoKey; // the client's private key
  alg: string; // its algorithm: "ES256", "PS256", "EdDSA", ...
  kid: string; // the kid the key was registered under
  scope: string;
}): Promise<Record<string, unknown>> {
  const metadataResponse = await fetch(`${options.issuer}/.well-known/oauth-authorization-server`);
  const metadata = (await metadataResponse.json()) as { issuer: string; token_endpoint: string };

  const assertion = await new SignJWT()
    .setProtectedHeader({ alg: options.alg, kid: options.kid, typ: "JWT" })
    .setIssuer(options.clientId)
    .setSubject(options.clientId)
    .setAudience(metadata.issuer) // the issuer string, not the token endpoint URL and not an array
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime("60s")
    .sign(options.privateKey);

  const response = await fetch(metadata.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: options.scope,
    }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`token request refused: HTTP ${response.status} ${String(body.error)}`);
  return body;
}
