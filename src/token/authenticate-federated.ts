// Workload identity federation: an external token (GitHub Actions, GitLab CI, a Kubernetes service account, a SPIFFE
// JWT-SVID) in place of the client's own assertion, for the client named by client_id. Its JOSE header passed the same
// checks as any assertion (assertion/decode.ts); here the client's record selects a trust by the token's iss and
// sub, the token's claims are checked against it (federation/external-token.ts), then its signature against the
// trust's issuer keys (federation/issuer-keys.ts). It never spends the jti (spend-jti.ts does, last) and never
// fetches a URL the token names: the issuer is the trust's.
import type { Context } from "hono";
import type { AssertionHeader } from "../assertion/decode";
import type { AppEnv, AuthenticatedClient } from "../context";
import { checkExternalClaims, selectTrust } from "../federation/external-token";
import { issuerKeys } from "../federation/issuer-keys";
import { TokenServiceError } from "../protocol/errors";
import { trustKeyId } from "../registry/federated-trust";
import type { ClientRecord } from "../registry/record";
import { remoteJwksOptions, verifyWithKeySource } from "./verify-keys";

export interface ExternalAssertion {
  compact: string;
  header: AssertionHeader;
  claims: Record<string, unknown>;
}

/** The audit line's view of an external token before anything about it is trusted: bounded strings only. */
export function claimedFederation(claims: Record<string, unknown>) {
  const bounded = (value: unknown) => (typeof value === "string" ? value.slice(0, 200) : "");
  return { issuer: bounded(claims.iss), subject: bounded(claims.sub) };
}

/**
 * The checks of an external token that depend on the client's record: a trust for its issuer and subject, its claims
 * against that trust, and its signature by the issuer's keys. Returns the client as this record authenticates it; the
 * jti to spend is scoped to the trust, so no other issuer's (nor the client's own) jti can collide with it.
 */
export async function checkFederatedAgainstRecord(
  c: Context<AppEnv>,
  record: ClientRecord,
  assertion: ExternalAssertion,
): Promise<AuthenticatedClient> {
  const config = c.get("config");
  const audit = c.get("audit");
  if (!record.federation) {
    // No trust at all: for a jwt-bearer client assertion this is a client_id that does not name the assertion's client.
    const plain = c.get("credentials").method === "client_assertion";
    throw new TokenServiceError(plain ? "client_id_mismatch" : "federated_trust_missing", "client has no federation");
  }
  const trust = selectTrust(record.federation, assertion.claims);
  const keyId = await trustKeyId(trust);
  if (audit.federation) audit.federation.trust = keyId;
  const checked = checkExternalClaims(
    assertion.claims,
    trust,
    { defaultAudience: config.issuer, clockSkew: config.clockSkew },
    c.get("now"),
  );
  const options = remoteJwksOptions(c);
  const key = await verifyWithKeySource(assertion.compact, assertion.header, (refetch) =>
    issuerKeys(trust, options, refetch),
  );
  const reusable = trust.allow_reuse === true;
  // Spent as <trust>:<jti>: the authority keeps it with the client's own jtis, in a namespace no assertion can enter.
  const jti = checked.jti === undefined ? `${keyId}:reusable` : `${keyId}:${checked.jti}`;
  audit.client_id = record.client_id;
  audit.kid = keyId;
  if (checked.jti !== undefined && audit.federation) audit.federation.jti = checked.jti;
  return {
    record,
    key,
    keyId,
    header: assertion.header,
    aud: trust.audience ?? config.issuer,
    jti,
    exp: checked.validUntil,
    federated: { trust, claims: assertion.claims, exp: checked.exp, reusable },
  };
}
