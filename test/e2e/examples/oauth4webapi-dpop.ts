// Example for docs/clients.md: a DPoP-bound token (RFC 9449) with oauth4webapi and private_key_jwt. The DPoP handle
// signs each proof and keeps the server's nonce; a use_dpop_nonce answer is retried once, as RFC 9449 section 8 asks.
import * as oauth from "oauth4webapi";

export async function getDpopTokenWithOauth4webapi(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string;
  privateKey: CryptoKey; // the client's private key (ES256, PS256 or Ed25519)
  kid: string; // the kid the key was registered under
  dpopKeyPair: CryptoKeyPair; // the proof key, e.g. await oauth.generateKeyPair("ES256"); never the client key
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
  const DPoP = oauth.DPoP(client, options.dpopKeyPair);
  const request = () =>
    oauth.clientCredentialsGrantRequest(as, client, clientAuth, new URLSearchParams({ scope: options.scope }), {
      ...insecure,
      DPoP,
    });
  try {
    return await oauth.processClientCredentialsResponse(as, client, await request());
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    return oauth.processClientCredentialsResponse(as, client, await request()); // the handle now holds the nonce
  }
}
