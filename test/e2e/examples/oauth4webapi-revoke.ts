// Example for docs/clients.md: revoking one of the client's own access tokens (RFC 7009) with oauth4webapi and
// private_key_jwt. The server answers 200 for a token that is already invalid too; another client's token is refused.
import * as oauth from "oauth4webapi";

export async function revokeWithOauth4webapi(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string;
  privateKey: CryptoKey; // the client's private key (ES256, PS256 or Ed25519)
  kid: string; // the kid the key was registered under
  token: string; // an access token this client obtained
}): Promise<void> {
  const issuer = new URL(options.issuer);
  const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" }; // local http only
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key: options.privateKey, kid: options.kid });
  const response = await oauth.revocationRequest(as, client, clientAuth, options.token, insecure);
  await oauth.processRevocationResponse(response); // throws on an error answer
}
