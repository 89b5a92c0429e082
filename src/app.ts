// The HTTP surface: routes, the per-request setup (validated config, signing keys, the clock), and the single
// place where errors become RFC 6749 JSON. No protocol logic lives here.
import { Hono, type MiddlewareHandler } from "hono";
import { createAdminApi } from "./admin/api";
import { ADMIN_PATH } from "./admin/contract";
import { configFor, JWKS_PATH, TOKEN_PATH } from "./config";
import type { AppEnv } from "./context";
import { introspectionEndpoint, revocationEndpoint } from "./issued-tokens/endpoints";
import { serverMetadata } from "./issuer/metadata";
import { checkActiveKeyForProfile, signingKeysFor } from "./issuer/signing-keys";
import { DISCOVERY_CACHE_CONTROL, INTROSPECTION_PATH, REVOCATION_PATH } from "./protocol/constants";
import { errorResponse } from "./protocol/error-response";
import { TokenServiceError } from "./protocol/errors";
import { transportProblem } from "./protocol/transport";
import { auditRequest, auditTokenRequest } from "./token/audit";
import { tokenEndpoint } from "./token/pipeline";

const loadConfiguration: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = configFor(c.env);
  const keys = await signingKeysFor(c.env.SIGNING_KEYS);
  checkActiveKeyForProfile(keys, config.profile);
  const problem = transportProblem(new URL(c.req.url), config.issuer);
  if (problem !== null) throw new TokenServiceError(problem);
  c.set("config", config);
  c.set("signingKeys", keys);
  c.set("now", Math.floor(Date.now() / 1000));
  await next();
};

function onlyMethods(allow: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!allow.split(", ").includes(c.req.method))
      throw new TokenServiceError("method_not_allowed", undefined, { headers: { Allow: allow } });
    await next();
  };
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(TOKEN_PATH, auditTokenRequest, onlyMethods("POST"));
  app.use(REVOCATION_PATH, auditRequest("revocation_request"), onlyMethods("POST"));
  app.use(INTROSPECTION_PATH, auditRequest("introspection_request"), onlyMethods("POST"));
  app.use("*", loadConfiguration);
  app.post(TOKEN_PATH, ...tokenEndpoint);
  app.post(REVOCATION_PATH, ...revocationEndpoint);
  app.post(INTROSPECTION_PATH, ...introspectionEndpoint);
  app.route(ADMIN_PATH, createAdminApi());

  const metadata = (c: Parameters<MiddlewareHandler<AppEnv>>[0]) =>
    c.json(serverMetadata(c.get("config"), c.get("signingKeys")), 200, { "Cache-Control": DISCOVERY_CACHE_CONTROL });
  for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", JWKS_PATH]) {
    app.use(path, onlyMethods("GET, HEAD"));
  }
  app.get("/.well-known/oauth-authorization-server", metadata);
  app.get("/.well-known/openid-configuration", metadata);
  app.get(JWKS_PATH, (c) =>
    c.json(c.get("signingKeys").publicJwks, 200, {
      "Cache-Control": DISCOVERY_CACHE_CONTROL,
      "Content-Type": "application/jwk-set+json",
    }),
  );

  app.notFound(() => errorResponse("not_found"));
  app.onError((err, c) => {
    if (err instanceof TokenServiceError) {
      if (err.reason === "config_invalid")
        console.error(JSON.stringify({ event: "config_invalid", detail: err.detail }));
      return errorResponse(err, c.get("assertionGrant") === true);
    }
    console.error(JSON.stringify({ event: "internal_error", name: err instanceof Error ? err.name : typeof err }));
    return errorResponse("internal_error");
  });
  return app;
}
