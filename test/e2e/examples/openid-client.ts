// Example for docs/clients.md: a client_credentials token with openid-client v6 and private_key_jwt.
// Discovers the server from its RFC 8414 metadata; the library signs the assertion with aud = the issuer.
import * as client from "openid-client";

export async function getTokenWithOpenidClient(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string;
  privateKey: CryptoKey; // the client's private key (ES256, PS256 or Ed25519)
  kid: string; // the kid the key was registered under
  scope: string;
}): Promise<client.TokenEndpointResponse> {
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    client.PrivateKeyJwt({ key: options.privateKey, kid: options.kid }),
    {
      algorithm: "oauth2", // RFC 8414: /.well-known/oauth-authorization-server
      execute: options.issuer.startsWith("http://") ? [client.allowInsecureRequests] : [], // local http only
    },
  );
  return client.clientCredentialsGrant(config, { scope: options.scope });
}
