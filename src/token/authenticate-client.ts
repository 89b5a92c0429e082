// private_key_jwt client authentication as Hono middleware: checks the assertion cheapest-first (header, claims,
// audience, time), then loads the client's record and checks what depends on it (the legacy audience rule, the
// signature), and puts the authenticated client on the context. It never spends the `jti`: that
// happens last, in spend-jti.ts, which asks checkAgainstRecord again when the client's authority has a newer record.
import type { Context, MiddlewareHandler } from "hono";
import { checkAudienceForClient } from "../assertion/audience";
import { validateAssertionClaims } from "../assertion/claims";
import { type AssertionHeader, decodeAssertion } from "../assertion/decode";
import { verifyAssertionSignature } from "../assertion/signature";
import type { AppEnv, AuthenticatedClient } from "../context";
import { TokenServiceError } from "../protocol/errors";
import type { ClientJwk } from "../protocol/jwk";
import { keyIdOf } from "../protocol/key-id";
import { isValidClientId } from "../protocol/syntax";
import { loadActiveClient } from "../registry/client-registry";
import type { ClientRecord } from "../registry/record";
import { type RemoteJwksOptions, remoteClientKeys } from "../registry/remote-jwks";
import { fresherRecord, isKeyMiss } from "./fresher-record";

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

function remoteJwksOptions(c: Context<AppEnv>): RemoteJwksOptions {
  let waitUntil: RemoteJwksOptions["waitUntil"];
  try {
    const executionCtx = c.executionCtx;
    waitUntil = (p) => executionCtx.waitUntil(p);
  } catch {
    // No execution context (app.fetch called without one, as unit tests do): the Cache API write is awaited.
  }
  return { nowMs: c.get("now") * 1000, allowInsecure: c.get("config").allowInsecureJwksUri, waitUntil };
}

/**
 * The checks that depend on the client's record, for an assertion whose header and claims already passed: the token
 * endpoint URL as audience only with legacy_audience, and the signature by one of the record's keys. Whether that key
 * is retired is the authority's to say (spend-jti.ts): a cached record must never refuse a key it has restored.
 * Returns the client as authenticated by this record.
 */
export async function checkAgainstRecord(
  c: Context<AppEnv>,
  record: ClientRecord,
  assertion: { compact: string; header: AssertionHeader; aud: string; jti: string; exp: number },
): Promise<AuthenticatedClient> {
  checkAudienceForClient(assertion.aud, c.get("config").issuer, record.legacy_audience === true);
  const key = await verifyWithClientKeys(assertion.compact, assertion.header, record, remoteJwksOptions(c));
  const keyId = await keyIdOf(key as ClientJwk & Record<string, unknown>);
  const audit = c.get("audit");
  audit.client_id = record.client_id;
  audit.kid = keyId;
  audit.jti = assertion.jti;
  return { record, key, keyId, header: assertion.header, aud: assertion.aud, jti: assertion.jti, exp: assertion.exp };
}

export const authenticateClient: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const request = c.get("credentials");
  const audit = c.get("audit");

  const { header, claims } = decodeAssertion(request.clientAssertion, config.algorithms);
  if (header.kid !== undefined) audit.claimed_kid = header.kid;
  if (isValidClientId(claims.iss)) audit.claimed_client_id = claims.iss;
  const checked = validateAssertionClaims(
    claims,
    {
      // The token endpoint URL passes here only to be checked against the client's legacy_audience flag.
      acceptedAudiences: [config.issuer, config.tokenEndpoint],
      // RFC 10070: ["<issuer>"] names the issuer alone too; FAPI 2.0 accepts only the string.
      ...(config.profile === "fapi2" ? {} : { arrayAudience: config.issuer }),
      clockSkew: config.clockSkew,
      maxLifetime: config.assertionMaxLifetime,
    },
    c.get("now"),
    request.clientId,
  );

  const clientCache = { ttlSeconds: config.clientCacheTtl, now: c.get("now") };
  const record = await loadActiveClient(c.env.CLIENTS, checked.clientId, clientCache);
  const assertion = { compact: request.clientAssertion, header, aud: checked.aud, jti: checked.jti, exp: checked.exp };
  try {
    c.set("client", await checkAgainstRecord(c, record, assertion));
  } catch (err) {
    // A key added through the authority a moment ago is not in this record yet: ask the authority once.
    const fresh = record.jwks && isKeyMiss(err) ? await fresherRecord(c, record) : null;
    if (!fresh) throw err;
    c.set("client", await checkAgainstRecord(c, fresh, assertion));
  }
  await next();
};
