// The last check of a token request: spends the assertion's `jti` in the client's Durable Object (which also
// applies the client's rate limit and kill switch) and turns its answer into a refusal unless it is "fresh".
// Runs only after every other check has passed, so nothing that failed earlier burns a jti. No clock of its own.
import type { MiddlewareHandler } from "hono";
import type { ConsumeOutcome } from "../client-authority/authority";
import type { AppEnv } from "../context";
import { TokenServiceError, whileAvailable } from "../protocol/errors";

/**
 * Spends the jti in the client's replay guard, which also applies the client's rate limit: the last check, so
 * nothing that failed earlier burns a jti.
 */
export const spendJti: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { record, key, jti, exp } = c.get("client");
  const retainUntilMs = (exp + c.get("config").clockSkew) * 1000;
  const rateLimit = record.rate_limit && {
    requests: record.rate_limit.requests,
    perSeconds: record.rate_limit.per_seconds,
  };
  const result = await whileAvailable(
    "replay_guard_unavailable",
    async (): Promise<ConsumeOutcome> =>
      c.env.CLIENT_AUTHORITY.getByName(record.client_id).consume(jti, retainUntilMs, rateLimit, key.kid),
  );
  switch (result.outcome) {
    case "fresh":
      return next();
    case "rate_limited":
      throw new TokenServiceError("rate_limited", undefined, result.retryAfterSeconds);
    case "replayed":
      throw new TokenServiceError("replayed");
    case "revoked":
      throw new TokenServiceError("client_revoked");
    case "expired":
      throw new TokenServiceError("expired", "assertion expired before its jti could be spent");
    default:
      // Only "fresh" issues a token: anything else from the guard (a newer object during a deploy) refuses.
      throw new TokenServiceError("replay_guard_unavailable", "unknown replay guard outcome");
  }
};
