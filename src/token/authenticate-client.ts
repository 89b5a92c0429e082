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
import { remoteClientKeys } from "../registry/remote-jwks";
import { checkFederatedAgainstRecord, claimedFederation } from "./authenticate-federated";
import { fresherRecord, isKeyMiss } from "./fresher-record";
import { remoteJwksOptions, verifyWithKeySource } from "./verify-keys";

/** Inline keys, or the keys at the client's jwks_uri (refetched once when none verifies, cooldown permitting). */
function verifyWithClientKeys(compact: string, header: AssertionHeader, c: Context<AppEnv>, record: ClientRecord) {
  if (record.jwks) return verifyAssertionSignature(compact, header, record.jwks.keys);
  const uri = record.jwks_uri;
  if (uri === undefined) throw new TokenServiceError("no_matching_key", "the client has no keys (federated only)");
  const options = remoteJwksOptions(c);
  return verifyWithKeySource(compact, header, (refetch) => remoteClientKeys(uri, options, refetch));
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
  const key = await verifyWithClientKeys(assertion.compact, assertion.header, c, record);
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
  const clientId = request.clientId;
  // An external token (its iss names neither the client it is sent for nor its own sub, as a client assertion's does)
  // goes to the client's federated trusts.
  const external = clientId !== undefined && claims.iss !== clientId && claims.iss !== claims.sub;
  if (request.method !== "client_assertion" || external) {
    audit.claimed_client_id = clientId!;
    audit.federation = claimedFederation(claims);
    const clientCache = { ttlSeconds: config.clientCacheTtl, now: c.get("now") };
    const record = await loadActiveClient(c.env.CLIENTS, clientId!, clientCache);
    c.set("client", await checkFederatedAgainstRecord(c, record, { compact: request.clientAssertion, header, claims }));
    return next();
  }
  if (clientId === undefined && claims.iss !== claims.sub && /^https?:\/\//.test(String(claims.iss)))
    throw new TokenServiceError("federated_client_id_missing", "an external token needs client_id");
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
