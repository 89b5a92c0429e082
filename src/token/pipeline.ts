// POST /token as a named pipeline, in request order, one file of this folder per step: parse-request →
// authenticate-client → check-dpop → authorize-grant → spend-jti → issue-token (audit.ts wraps them all, see app.ts). The wrappers
// here only move values between the context and the steps; errors are thrown as TokenServiceError and rendered by
// app.onError. The request clock is read here, once the body is in.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { DPOP_TOKEN_TYPE } from "../protocol/constants";
import { authenticateClient } from "./authenticate-client";
import { decideGrant } from "./authorize-grant";
import { checkDpop, nonceHeader } from "./check-dpop";
import { mintAccessToken } from "./issue-token";
import { parseTokenRequest, readFormBody } from "./parse-request";
import { spendJti } from "./spend-jti";

const parseRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const body = await readFormBody(c.req.raw);
  // The clock is read again once the body is in: a slowly sent body must not stretch an assertion's validity.
  c.set("now", Math.floor(Date.now() / 1000));
  const request = parseTokenRequest(body, c.req.header("Authorization"));
  c.set("tokenRequest", request);
  c.set("credentials", request);
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
  const proof = c.get("dpop");
  const token = await mintAccessToken(
    c.get("signingKeys").active,
    config.issuer,
    { clientId: client.record.client_id, keyId: client.keyId, ...(proof ? { jkt: proof.jkt } : {}) },
    grant,
    c.get("now"),
  );
  const type = proof ? DPOP_TOKEN_TYPE : "Bearer";
  c.get("audit").token = { jti: token.jti, aud: grant.audience, scope: token.scope, exp: token.exp, type };
  const body: Record<string, unknown> = {
    access_token: token.accessToken,
    token_type: type,
    expires_in: token.expiresIn,
  };
  if (token.scope) body.scope = token.scope;
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache", ...(await nonceHeader(c)) });
};

export const tokenEndpoint = [
  parseRequest,
  authenticateClient,
  checkDpop,
  authorizeGrant,
  spendJti,
  issueToken,
] as const;
