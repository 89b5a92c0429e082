// private_key_jwt client authentication as Hono middleware: checks the assertion cheapest-first (header, claims,
// audience, time), then loads the client and verifies the signature, and puts the authenticated client on the
// context. It never spends the `jti`: that happens last, after the grant is authorized (token-endpoint.ts).
import type { MiddlewareHandler } from "hono";
import { checkAudienceForClient } from "../assertion/audience";
import { validateAssertionClaims } from "../assertion/claims";
import { type AssertionHeader, decodeAssertion } from "../assertion/decode";
import { verifyAssertionSignature } from "../assertion/signature";
import type { AppEnv } from "../context";
import { TokenServiceError } from "../protocol/errors";
import type { ClientJwk } from "../protocol/jwk";
import { loadActiveClient } from "../registry/client-registry";
import type { ClientRecord } from "../registry/record";
import { type RemoteJwksOptions, remoteClientKeys } from "../registry/remote-jwks";

/**
 * Verifies against inline keys, or against the keys at the client's jwks_uri; for the latter a kid that is not
 * found (or a signature no key verifies) asks once for a fresh set, which the cooldown may refuse.
 */
async function verifyWithClientKeys(
  compact: string,
  header: AssertionHeader,
  record: ClientRecord,
  options: RemoteJwksOptions,
): Promise<ClientJwk> {
  if (record.jwks) return verifyAssertionSignature(compact, header, record.jwks.keys);
  const uri = record.jwks_uri!;
  const current = await remoteClientKeys(uri, options);
  try {
    return await verifyAssertionSignature(compact, header, current.keys);
  } catch (err) {
    const retryable =
      err instanceof TokenServiceError && (err.reason === "no_matching_key" || err.reason === "signature_invalid");
    if (!retryable || current.refreshed) throw err;
    const next = await remoteClientKeys(uri, options, true);
    if (!next.refreshed) throw err;
    return verifyAssertionSignature(compact, header, next.keys);
  }
}

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
  let waitUntil: RemoteJwksOptions["waitUntil"];
  try {
    const executionCtx = c.executionCtx;
    waitUntil = (p) => executionCtx.waitUntil(p);
  } catch {
    // No execution context (app.fetch called without one, as unit tests do): the Cache API write is awaited.
  }
  const key = await verifyWithClientKeys(request.clientAssertion, header, record, {
    nowMs: c.get("now") * 1000,
    allowInsecure: config.allowInsecureJwksUri,
    waitUntil,
  });
  if (key.kid !== undefined) audit.kid = key.kid;
  audit.jti = checked.jti;

  c.set("client", { record, key, jti: checked.jti, exp: checked.exp });
  await next();
};
