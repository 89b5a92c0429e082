// POST /token as a named pipeline, in request order, one file of this folder per step: parse-request →
// authenticate-client → authorize-grant → spend-jti → issue-token (audit.ts wraps them all, see app.ts). The wrappers
// here only move values between the context and the steps; errors are thrown as TokenServiceError and rendered by
// app.onError. The request clock is read here, once the body is in.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { authenticateClient } from "./authenticate-client";
import { decideGrant } from "./authorize-grant";
import { mintAccessToken } from "./issue-token";
import { parseTokenRequest, readFormBody } from "./parse-request";
import { spendJti } from "./spend-jti";

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
      adminAudience: config.adminAudience,
    }),
  );
  await next();
};

const issueToken: MiddlewareHandler<AppEnv> = async (c) => {
  const config = c.get("config");
  const client = c.get("client");
  const grant = c.get("grant");
  const token = await mintAccessToken(
    c.get("signingKeys").active,
    config.issuer,
    { clientId: client.record.client_id, keyId: client.keyId },
    grant,
    c.get("now"),
  );
  c.get("audit").token = { jti: token.jti, aud: grant.audience, scope: token.scope, exp: token.exp };
  const body: Record<string, unknown> = {
    access_token: token.accessToken,
    token_type: "Bearer",
    expires_in: token.expiresIn,
  };
  if (token.scope) body.scope = token.scope;
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
};

export const tokenEndpoint = [parseRequest, authenticateClient, authorizeGrant, spendJti, issueToken] as const;
