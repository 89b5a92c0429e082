// POST /revoke (RFC 7009) and POST /introspect (RFC 7662) as named pipelines: the caller authenticates with
// private_key_jwt exactly as at the token endpoint (token/authenticate-client.ts, then its jti spent by its authority,
// which also decides whether it may introspect), the presented token is checked as one of ours (own-token.ts), and the
// token's client's authority revokes it or says whether it is active. Every step throws TokenServiceError or moves
// values on the context; the token itself is never logged.
import type { Context, MiddlewareHandler } from "hono";
import type { TokenStatus } from "../client-authority/contract";
import type { AppEnv, AuditFields } from "../context";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { authenticateClient } from "../token/authenticate-client";
import { readFormBody } from "../token/parse-request";
import { spendJtiFor } from "../token/spend-jti";
import { type OwnTokenClaims, verifyOwnToken } from "./own-token";
import { parseTokenStatusRequest } from "./parse-request";

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

const parseRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const body = await readFormBody(c.req.raw);
  // As at the token endpoint: the clock is read again once the body is in.
  c.set("now", Math.floor(Date.now() / 1000));
  const request = parseTokenStatusRequest(body, c.req.header("Authorization"));
  c.set("credentials", request.credentials);
  c.set("statusRequest", request);
  await next();
};

/** Checks the presented token's signature and claims, before any state: no storage is read for a token not ours. */
const checkPresentedToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const request = c.get("statusRequest");
  const result = await verifyOwnToken(request.token, c.get("signingKeys"), c.get("config").issuer, c.get("now"));
  const target: NonNullable<AuditFields["target"]> = { state: result.ok ? "checked" : result.why };
  if (request.hint !== undefined) target.hint = request.hint;
  if (result.ok) {
    target.client_id = result.claims.client_id;
    target.jti = result.claims.jti;
    c.set("presented", result.claims);
  }
  c.get("audit").target = target;
  await next();
};

/** RFC 7009 section 2.1: a client revokes only its own tokens; another's is refused before the caller's jti is spent. */
const onlyOwnTokens: MiddlewareHandler<AppEnv> = async (c, next) => {
  const presented = c.get("presented");
  if (presented && presented.client_id !== c.get("client").record.client_id) {
    throw new TokenServiceError("revocation_not_owner", "the token was issued to another client");
  }
  await next();
};

const revoke: MiddlewareHandler<AppEnv> = async (c) => {
  const presented = c.get("presented");
  // Section 2.2: an invalid, unknown or expired token gets 200 too; there is nothing to revoke.
  if (presented) {
    const retainUntilMs = (presented.exp + c.get("config").clockSkew) * 1000;
    await whileAvailable("replay_guard_unavailable", () =>
      c.env.CLIENT_AUTHORITY.getByName(presented.client_id).revokeToken({
        clientId: presented.client_id,
        jti: presented.jti,
        retainUntilMs,
      }),
    );
    c.get("audit").target!.state = "revoked";
  }
  return c.body(null, 200, NO_STORE);
};

/** The RFC 7662 section 2.2 answer for an active token: its claims, and its type. */
function activeAnswer(claims: OwnTokenClaims): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    active: true,
    iss: claims.iss,
    sub: claims.sub,
    client_id: claims.client_id,
    aud: claims.aud,
  };
  if (claims.scope !== undefined) answer.scope = claims.scope;
  answer.exp = claims.exp;
  answer.iat = claims.iat;
  if (claims.nbf !== undefined) answer.nbf = claims.nbf;
  answer.jti = claims.jti;
  answer.token_type = claims.cnf ? "DPoP" : "Bearer";
  if (claims.cnf) answer.cnf = { jkt: claims.cnf.jkt };
  return answer;
}

async function statusOf(c: Context<AppEnv>, claims: OwnTokenClaims): Promise<TokenStatus> {
  const query = { clientId: claims.client_id, jti: claims.jti, issuedAt: claims.iat, keyId: claims.client_key };
  return whileAvailable("replay_guard_unavailable", async () =>
    c.env.CLIENT_AUTHORITY.getByName(claims.client_id).tokenStatus(query),
  );
}

const introspect: MiddlewareHandler<AppEnv> = async (c) => {
  const presented = c.get("presented");
  const status: TokenStatus = presented ? await statusOf(c, presented) : { active: false, reason: "client_unknown" };
  const target = c.get("audit").target!;
  if (presented) target.state = status.active ? "active" : status.reason;
  // Section 2.2: an inactive token gets `active: false` and nothing else, whatever the reason.
  return c.json(presented && status.active ? activeAnswer(presented) : { active: false }, 200, NO_STORE);
};

export const revocationEndpoint = [
  parseRequest,
  authenticateClient,
  checkPresentedToken,
  onlyOwnTokens,
  spendJtiFor("revocation"),
  revoke,
] as const;

export const introspectionEndpoint = [
  parseRequest,
  authenticateClient,
  checkPresentedToken,
  spendJtiFor("introspection"),
  introspect,
] as const;
