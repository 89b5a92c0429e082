// Admin API authentication: accepts only an RFC 9068 access token this server signed, for its issuer, with the admin
// audience `<issuer>/admin` as its sole audience, the admin scope, a client_id and the client_key of the operator key
// that obtained it; then asks the operator's authority whether that operator and key may still administer (active,
// key not retired, admin scope still granted, the token not revoked). Verification only: it never logs or stores the
// token.
import type { MiddlewareHandler } from "hono";
import { type JWTPayload, jwtVerify } from "jose";
import type { OperatorVerdict } from "../client-authority/contract";
import type { AppEnv } from "../context";
import { verificationKeys } from "../issuer/signing-keys";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { ADMIN_SCOPE } from "./contract";

/** The admin audience as the token's only audience: a token some other service also accepts is no admin token. */
function hasOnlyAudience(payload: JWTPayload, audience: string): boolean {
  return (
    payload.aud === audience || (Array.isArray(payload.aud) && payload.aud.length === 1 && payload.aud[0] === audience)
  );
}

export const requireAdminToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization");
  // The scheme name is case-insensitive (RFC 9110 section 11.1); the token is a JWS compact serialisation.
  const match = header?.match(/^Bearer +([A-Za-z0-9._~+/-]+=*)$/i);
  if (!match) throw new TokenServiceError("admin_token_missing");
  const config = c.get("config");
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(match[1]!, verificationKeys(c.get("signingKeys")), {
      issuer: config.issuer,
      audience: config.adminAudience,
      typ: "at+jwt",
      currentDate: new Date(c.get("now") * 1000),
    }));
  } catch {
    throw new TokenServiceError("admin_token_invalid");
  }
  if (!hasOnlyAudience(payload, config.adminAudience)) {
    throw new TokenServiceError("admin_token_invalid", "the admin audience is not the token's only audience");
  }
  const { client_id: clientId, client_key: keyId, scope, jti, iat } = payload as Record<string, unknown>;
  if (typeof clientId !== "string" || clientId === "")
    throw new TokenServiceError("admin_token_invalid", "no client_id");
  if (typeof keyId !== "string" || keyId === "") throw new TokenServiceError("admin_token_invalid", "no client_key");
  if (typeof jti !== "string" || jti === "") throw new TokenServiceError("admin_token_invalid", "no jti");
  if (typeof iat !== "number") throw new TokenServiceError("admin_token_invalid", "no iat");
  if (typeof scope !== "string" || !scope.split(" ").includes(ADMIN_SCOPE)) {
    throw new TokenServiceError("admin_scope_missing");
  }
  // The token dies with its operator's standing (disabled, key retired or removed, admin no longer granted) and with
  // its revocation: its own (RFC 7009), or every token of the operator's (`revoke-tokens`).
  const check = {
    clientId,
    keyId,
    adminAudience: config.adminAudience,
    adminScope: ADMIN_SCOPE,
    tokenJti: jti,
    issuedAt: iat,
  };
  const verdict = await whileAvailable(
    "replay_guard_unavailable",
    async () => (await c.env.CLIENT_AUTHORITY.getByName(clientId).authorizeOperator(check)) as OperatorVerdict,
  );
  if (!verdict.ok) throw new TokenServiceError("admin_token_invalid", verdict.detail);
  c.set("operator", { clientId, keyId, tokenJti: jti });
  await next();
};
