// What a token request is granted by a client record, read from the request's context: authorize-grant.ts's decision
// with the configured defaults, and for an external token its trust's rules: a DPoP proof when the trust requires
// one, and a lifetime that ends no later than the external token. Used when the request is first decided, and again
// when the client's authority holds a newer record. No I/O.
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { TokenServiceError } from "../protocol/errors";
import type { ClientRecord } from "../registry/record";
import { decideGrant, type GrantDecision } from "./authorize-grant";

export function grantFor(c: Context<AppEnv>, record: ClientRecord): GrantDecision {
  const config = c.get("config");
  const grant = decideGrant(record, c.get("tokenRequest"), {
    audience: config.defaultAudience,
    maxTtl: config.accessTokenTtl,
    adminAudience: config.adminAudience,
  });
  const federated = c.get("client").federated;
  if (federated) {
    if (federated.trust.require_dpop === true && !c.get("dpop"))
      throw new TokenServiceError("dpop_proof_required", "the federated trust requires DPoP");
    // The access token never outlives the external token it was traded for.
    const left = federated.exp - c.get("now");
    if (left < 1) throw new TokenServiceError("expired", "the external token expires now");
    grant.ttl = Math.min(grant.ttl, left);
  }
  return grant;
}
