// Admin API authentication: accepts only an RFC 9068 access token this server signed for its admin audience
// (`<issuer>/admin`) with the admin scope, from an operator client whose kill switch is off. Verification only:
// it never logs or stores the token.
import type { MiddlewareHandler } from "hono";
import { createLocalJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { AppEnv } from "../context";
import type { SigningKeySet } from "../issuer/signing-keys";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { ADMIN_SCOPE } from "./contract";

const localKeySets = new WeakMap<SigningKeySet, JWTVerifyGetKey>();

/** Verifies the bearer token: our signature, our issuer, the admin audience, RFC 9068 typ, the admin scope. */
export const requireAdminToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization");
  // The scheme name is case-insensitive (RFC 9110 section 11.1); the token is a JWS compact serialisation.
  const match = header?.match(/^Bearer +([A-Za-z0-9._~+/-]+=*)$/i);
  if (!match) throw new TokenServiceError("admin_token_missing");
  const config = c.get("config");
  const keys = c.get("signingKeys");
  let jwks = localKeySets.get(keys);
  if (!jwks) {
    jwks = createLocalJWKSet(keys.publicJwks as Parameters<typeof createLocalJWKSet>[0]);
    localKeySets.set(keys, jwks);
  }
  let scope: unknown;
  let clientId: unknown;
  try {
    const { payload } = await jwtVerify(match[1]!, jwks, {
      issuer: config.issuer,
      audience: config.adminAudience,
      typ: "at+jwt",
      currentDate: new Date(c.get("now") * 1000),
    });
    scope = payload.scope;
    clientId = payload.client_id;
  } catch {
    throw new TokenServiceError("admin_token_invalid");
  }
  if (typeof clientId !== "string" || clientId === "")
    throw new TokenServiceError("admin_token_invalid", "no client_id");
  if (typeof scope !== "string" || !scope.split(" ").includes(ADMIN_SCOPE)) {
    throw new TokenServiceError("admin_scope_missing");
  }
  // An operator client disabled through the kill switch loses the admin API at once, not when its tokens expire.
  const revocations = await whileAvailable("replay_guard_unavailable", () =>
    c.env.CLIENT_AUTHORITY.getByName(clientId).revocations(),
  );
  if (revocations.client) throw new TokenServiceError("admin_token_invalid", "the token's client is disabled");
  await next();
};
