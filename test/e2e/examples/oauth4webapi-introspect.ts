// Example for docs/clients.md: a resource server asking whether a token is still active (RFC 7662) with oauth4webapi,
// authenticated as its own client (registered with --introspect) by private_key_jwt.
import * as oauth from "oauth4webapi";

export async function introspectWithOauth4webapi(options: {
  issuer: string; // e.g. "https://tokens.example.com"
  clientId: string; // the resource server's own client, allowed to introspect
  privateKey: CryptoKey;
  kid: string;
  token: string; // the access token a request presented
}): Promise<oauth.IntrospectionResponse> {
  const issuer = new URL(options.issuer);
  const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" }; // local http only
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key: options.privateKey, kid: options.kid });
  const response = await oauth.introspectionRequest(as, client, clientAuth, options.token, insecure);
  return oauth.processIntrospectionResponse(as, client, response); // { active: false } for any inactive token
}
