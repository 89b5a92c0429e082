// The last check of a token request (and of a revocation or introspection caller): asks the client's authority (its
// Durable Object) to spend the assertion's jti, and the DPoP proof's when there is one, which it does only for the
// current record, an active client, a key that is not retired, a proof when the record binds the client to DPoP (token
// requests) and the record's permission (introspection), within the client's rate limit. When the authority holds a
// newer record than the one KV served, the request is checked again against that record (signature, audience, and
// for a token the grant) before the jti is spent. Runs only after every other check has passed.
import type { Context, MiddlewareHandler, Next } from "hono";
import type { ConsumeOutcome, ConsumePurpose } from "../client-authority/contract";
import type { AppEnv } from "../context";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { rememberClient } from "../registry/client-registry";
import { type ClientRecord, RecordError, validateClientRecord } from "../registry/record";
import { checkAgainstRecord } from "./authenticate-client";
import { checkFederatedAgainstRecord } from "./authenticate-federated";
import { grantFor } from "./grant-for";

/** The authority's record, as the registry rules read it. */
function authoritativeRecord(raw: Record<string, unknown>, clientId: string): ClientRecord {
  try {
    return validateClientRecord(raw, clientId);
  } catch (err) {
    if (err instanceof RecordError) throw new TokenServiceError("client_record_invalid", err.message);
    throw err;
  }
}

/**
 * Spends the jti of an authenticated request: a token request (`purpose` "token"), or the client authentication of a
 * revocation or introspection request, where nothing is granted: no DPoP proof is asked of a DPoP-bound client, and
 * introspection needs the record's permission, which the authority checks on its current record.
 */
async function spend(c: Context<AppEnv>, next: Next, purpose: ConsumePurpose): Promise<void> {
  const config = c.get("config");
  const proof = c.get("dpop");
  // A proof passes the iat window until iat + max age + skew: its jti is kept that long.
  const proofRetainUntilMs = proof ? (proof.iat + config.dpop.proofMaxAge + config.clockSkew) * 1000 : 0;
  for (let attempt = 0; attempt < 2; attempt++) {
    const client = c.get("client");
    const result = await whileAvailable(
      "replay_guard_unavailable",
      async (): Promise<ConsumeOutcome> =>
        c.env.CLIENT_AUTHORITY.getByName(client.record.client_id).consume({
          clientId: client.record.client_id,
          purpose,
          jti: client.jti,
          retainUntilMs: (client.exp + config.clockSkew) * 1000,
          keyId: client.keyId,
          recordVersion: client.record.version ?? 0,
          ...(client.federated?.reusable ? { reusable: true } : {}),
          ...(proof ? { proof: { jti: proof.jti, retainUntilMs: proofRetainUntilMs } } : {}),
        }),
    );
    switch (result.outcome) {
      case "fresh":
        return next();
      case "stale": {
        // KV served an older record than the authority holds: decide again with the authority's.
        const record = authoritativeRecord(result.record, client.record.client_id);
        if (record.status !== "active") throw new TokenServiceError("client_disabled", "disabled by its authority");
        rememberClient(record, { ttlSeconds: config.clientCacheTtl, now: c.get("now") });
        const compact = c.get("credentials").clientAssertion;
        const { header, aud, jti, exp, federated } = client;
        c.set(
          "client",
          federated
            ? await checkFederatedAgainstRecord(c, record, { compact, header, claims: federated.claims })
            : await checkAgainstRecord(c, record, { compact, header, aud, jti, exp }),
        );
        if (purpose === "token") c.set("grant", grantFor(c, record));
        continue;
      }
      case "unknown":
        throw new TokenServiceError("client_unknown", "its authority holds no record");
      case "disabled":
        throw new TokenServiceError("client_disabled", "disabled by its authority");
      case "key_retired":
        throw new TokenServiceError("key_retired");
      case "proof_required":
        throw new TokenServiceError("dpop_proof_required", "its authority's record binds the client to DPoP");
      case "not_permitted":
        throw new TokenServiceError("introspection_not_allowed", "its authority's record does not allow introspection");
      case "rate_limited":
        throw new TokenServiceError("rate_limited", undefined, { retryAfterSeconds: result.retryAfterSeconds });
      case "replayed":
        throw new TokenServiceError("replayed");
      case "expired":
        throw new TokenServiceError("expired", "assertion expired before its jti could be spent");
      case "proof_replayed":
        throw new TokenServiceError("dpop_replayed");
      case "proof_expired":
        throw new TokenServiceError("dpop_iat_invalid", "proof too old by its authority's clock");
      default:
        // Only "fresh" issues a token: anything else from the authority (a newer object during a deploy) refuses.
        throw new TokenServiceError("replay_guard_unavailable", "unknown outcome from the client's authority");
    }
  }
  // The record changed again between two checks: the client retries; nothing was spent.
  throw new TokenServiceError("replay_guard_unavailable", "the client's record changed while it was checked");
}

export const spendJti: MiddlewareHandler<AppEnv> = (c, next) => spend(c, next, "token");

/** The same step for the revocation and introspection endpoints. */
export const spendJtiFor =
  (purpose: Exclude<ConsumePurpose, "token">): MiddlewareHandler<AppEnv> =>
  (c, next) =>
    spend(c, next, purpose);
