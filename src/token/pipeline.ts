// POST /token as a named pipeline, in request order, one file of this folder per step: parse-request →
// authenticate-client → check-dpop → authorize-grant → spend-jti → issue-token (audit.ts wraps them all, see app.ts). The wrappers
// here only move values between the context and the steps; errors are thrown as TokenServiceError and rendered by
// app.onError. The request clock is read here, once the body is in.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { DPOP_TOKEN_TYPE } from "../protocol/constants";
import { JWT_BEARER_GRANT } from "../protocol/federation";
import { authenticateClient } from "./authenticate-client";
import { checkDpop, nonceHeader } from "./check-dpop";
import { grantFor } from "./grant-for";
import { mintAccessToken } from "./issue-token";
import { parseTokenForm, parseTokenRequest, readFormBody } from "./parse-request";
import { spendJti } from "./spend-jti";

const parseRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const body = await readFormBody(c.req.raw);
  // The clock is read again once the body is in: a slowly sent body must not stretch an assertion's validity.
  c.set("now", Math.floor(Date.now() / 1000));
  const form = parseTokenForm(body);
  // From here on, a refusal of the jwt-bearer grant's token is invalid_grant (app.onError reads this).
  if (form.one("grant_type") === JWT_BEARER_GRANT) c.set("assertionGrant", true);
  const request = parseTokenRequest(form, c.req.header("Authorization"));
  c.set("tokenRequest", request);
  c.set("credentials", request);
  await next();
};

const authorizeGrant: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("grant", grantFor(c, c.get("client").record));
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
