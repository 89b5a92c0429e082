// Example for docs/clients.md: a client_credentials token with oauth4webapi and private_key_jwt.
// Discovers the server from its RFC 8414 metadata; the library signs the assertion with aud = the issuer.
import * as oauth from "oauth4webapi";

export async function getTokenWithOauth4webapi(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string;
  privateKey: CryptoKey; // the client's private key (ES256, PS256 or Ed25519)
  kid: string; // the kid the key was registered under
  scope: string;
}): Promise<oauth.TokenEndpointResponse> {
  const issuer = new URL(options.issuer);
  const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" }; // local http only
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key: options.privateKey, kid: options.kid });
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    clientAuth,
    new URLSearchParams({ scope: options.scope }),
    insecure,
  );
  return oauth.processClientCredentialsResponse(as, client, response);
}
