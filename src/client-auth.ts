// private_key_jwt client authentication as Hono middleware: checks the assertion cheapest-first (header, claims,
// audience, time), then loads the client and verifies the signature, and puts the authenticated client on the
// context. It never spends the `jti`: that happens last, after the grant is authorized (token-endpoint.ts).
import type { MiddlewareHandler } from "hono";
import { checkAudienceForClient, validateAssertionClaims } from "./assertion/claims";
import { decodeAssertion } from "./assertion/decode";
import { verifyAssertionSignature } from "./assertion/verify";
import type { AppEnv } from "./context";
import { loadActiveClient } from "./registry/client-registry";

export const authenticateClient: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const request = c.get("tokenRequest");
  const audit = c.get("audit");

  const { header, claims } = decodeAssertion(request.clientAssertion);
  if (header.kid !== undefined) audit.kid = header.kid;
  const checked = validateAssertionClaims(
    claims,
    {
      // The token endpoint URL passes here only to be checked against the client's legacy_audience flag below.
      acceptedAudiences: [config.issuer, config.tokenEndpoint],
      clockSkew: config.clockSkew,
      maxLifetime: config.assertionMaxLifetime,
    },
    c.get("now"),
    request.clientId,
  );
  audit.client_id = checked.clientId;

  const clientCache = { ttlSeconds: config.clientCacheTtl, now: c.get("now") };
  const record = await loadActiveClient(c.env.CLIENTS, checked.clientId, clientCache);
  checkAudienceForClient(checked.aud, config.issuer, record.legacy_audience === true);
  const key = await verifyAssertionSignature(request.clientAssertion, header, record.jwks.keys);
  if (key.kid !== undefined) audit.kid = key.kid;
  audit.jti = checked.jti;

  c.set("client", { record, key, jti: checked.jti, exp: checked.exp });
  await next();
};
