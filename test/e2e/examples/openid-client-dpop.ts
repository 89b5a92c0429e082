// Example for docs/clients.md: a DPoP-bound token (RFC 9449) with openid-client v6 and private_key_jwt. The library
// signs a proof with a key pair of its own, retries once with the server's nonce when asked (use_dpop_nonce), and
// the same handle then signs the proofs sent with the token to resource servers.
import * as client from "openid-client";

export async function getDpopTokenWithOpenidClient(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string;
  privateKey: CryptoKey; // the client's private key (ES256, PS256 or Ed25519)
  kid: string; // the kid the key was registered under
  dpopKeyPair: CryptoKeyPair; // the proof key, e.g. await client.randomDPoPKeyPair("ES256"); never the client key
  scope: string;
}) {
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
  const DPoP = client.getDPoPHandle(config, options.dpopKeyPair);
  const tokens = await client.clientCredentialsGrant(config, { scope: options.scope }, { DPoP });
  // tokens.token_type is "dpop". Call an API with: client.fetchProtectedResource(config, tokens.access_token, url,
  // "GET", undefined, undefined, { DPoP })
  return { config, tokens, DPoP };
}
