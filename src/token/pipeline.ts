// The token endpoint as a named pipeline that reads like the spec: parse the request, authenticate the client,
// authorize the grant, spend the assertion's jti, issue the token. Each step is small; errors are thrown as
// TokenServiceError and rendered by app.onError.
import type { MiddlewareHandler } from "hono";
import { mintAccessToken } from "./issue-token";
import { authenticateClient } from "./authenticate-client";
import type { AppEnv } from "../context";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { decideGrant } from "./authorize-grant";
import type { ConsumeOutcome } from "../client-object/replay-guard";
import { parseTokenRequest, readFormBody } from "./parse-request";

const parseRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const body = await readFormBody(c.req.raw);
  // The clock is read again once the body is in: a slowly sent body must not stretch an assertion's validity.
  c.set("now", Math.floor(Date.now() / 1000));
  c.set("tokenRequest", parseTokenRequest(body, c.req.header("Authorization")));
  await next();
};

const authorizeGrant: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const request = c.get("tokenRequest");
  c.set(
    "grant",
    decideGrant(c.get("client").record, request, {
      audience: config.defaultAudience,
      maxTtl: config.accessTokenTtl,
    }),
  );
  await next();
};

/**
 * Spends the jti in the client's replay guard, which also applies the client's rate limit: the last check, so
 * nothing that failed earlier burns a jti.
 */
const spendAssertion: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { record, key, jti, exp } = c.get("client");
  const retainUntilMs = (exp + c.get("config").clockSkew) * 1000;
  const rateLimit = record.rate_limit && { requests: record.rate_limit.requests, perSeconds: record.rate_limit.per_seconds };
  const result = await whileAvailable("replay_guard_unavailable", async (): Promise<ConsumeOutcome> =>
    c.env.REPLAY_GUARD.getByName(record.client_id).consume(jti, retainUntilMs, rateLimit, key.kid),
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

const issueToken: MiddlewareHandler<AppEnv> = async (c) => {
  const config = c.get("config");
  const token = await mintAccessToken(c.get("signingKeys").active, config.issuer, c.get("client").record.client_id, c.get("grant"), c.get("now"));
  const body: Record<string, unknown> = {
    access_token: token.accessToken,
    token_type: "Bearer",
    expires_in: token.expiresIn,
  };
  if (token.scope) body.scope = token.scope;
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
};

export const tokenEndpoint = [parseRequest, authenticateClient, authorizeGrant, spendAssertion, issueToken] as const;
