// The admin API (/admin/...): disable or enable a client, retire (or restore) one of its keys, read its status. It accepts only
// access tokens this server issued for its admin audience (`<issuer>/admin`) carrying the `admin` scope. Changes go
// to the client's Durable Object (the kill switch, effective on the next request everywhere) and to its KV record.
// Never logs tokens or keys.
import { Hono, type MiddlewareHandler } from "hono";
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { AppEnv } from "../context";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { clientKey, RecordError, validateClientRecord } from "../registry/record";
import type { SigningKeySet } from "../issuer/signing-keys";

export const ADMIN_SCOPE = "admin";
export const ADMIN_PATH = "/admin";

const localKeySets = new WeakMap<SigningKeySet, JWTVerifyGetKey>();

/** Verifies the bearer token: our signature, our issuer, the admin audience, RFC 9068 typ, the admin scope. */
const requireAdminToken: MiddlewareHandler<AppEnv> = async (c, next) => {
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
  if (typeof clientId !== "string" || clientId === "") throw new TokenServiceError("admin_token_invalid", "no client_id");
  if (typeof scope !== "string" || !scope.split(" ").includes(ADMIN_SCOPE)) {
    throw new TokenServiceError("admin_scope_missing");
  }
  // An operator client disabled through the kill switch loses the admin API at once, not when its tokens expire.
  const revocations = await whileAvailable("replay_guard_unavailable", () => c.env.REPLAY_GUARD.getByName(clientId).revocations());
  if (revocations.client) throw new TokenServiceError("admin_token_invalid", "the token's client is disabled");
  await next();
};

/** One JSON line per admin request: what was asked, of which client, and the outcome. Never the token. */
const auditAdminRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const error = c.error;
  console.log(
    JSON.stringify({
      event: "admin_request",
      method: c.req.method,
      path: new URL(c.req.url).pathname.slice(0, 600),
      status: c.res.status,
      outcome: error ? "refused" : "done",
      ...(error instanceof TokenServiceError ? { reason: error.reason } : {}),
    }),
  );
};

/** The stored record as raw JSON (unknown fields kept) with `change` applied and validated; nothing written. */
async function checkRecordChange(
  kv: KVNamespace,
  clientId: string,
  change: (record: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  const text = await whileAvailable("registry_unavailable", () => kv.get(clientKey(clientId), "text"));
  if (text === null) throw new TokenServiceError("admin_client_unknown");
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    change(raw);
    validateClientRecord(raw, clientId);
    return raw;
  } catch (err) {
    if (err instanceof TokenServiceError) throw err;
    throw new TokenServiceError("admin_request_invalid", err instanceof RecordError ? err.message : "stored record is not JSON");
  }
}

/** Writes a record that checkRecordChange produced. */
async function writeRecord(kv: KVNamespace, clientId: string, record: Record<string, unknown>): Promise<void> {
  await whileAvailable("registry_unavailable", () => kv.put(clientKey(clientId), JSON.stringify(record)));
}

export function createAdminApi(): Hono<AppEnv> {
  const admin = new Hono<AppEnv>();
  admin.use("*", auditAdminRequest, requireAdminToken);

  admin.get("/clients/:id", async (c) => {
    const id = c.req.param("id");
    const text = await whileAvailable("registry_unavailable", () => c.env.CLIENTS.get(clientKey(id), "text"));
    if (text === null) throw new TokenServiceError("admin_client_unknown");
    let status: unknown;
    try {
      status = (JSON.parse(text) as { status?: unknown }).status;
    } catch {
      status = "invalid";
    }
    const revocations = await whileAvailable("replay_guard_unavailable", () => c.env.REPLAY_GUARD.getByName(id).revocations());
    return c.json({ client_id: id, registry_status: status, kill_switch: revocations }, 200, { "Cache-Control": "no-store" });
  });

  for (const [action, revoke] of [["disable", true], ["enable", false]] as const) {
    admin.post(`/clients/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      const next = await checkRecordChange(c.env.CLIENTS, id, (r) => {
        r.status = revoke ? "disabled" : "active";
      });
      // The Durable Object first: from this moment every location refuses (or serves) the client.
      await whileAvailable("replay_guard_unavailable", () => c.env.REPLAY_GUARD.getByName(id).setClientRevoked(revoke));
      await writeRecord(c.env.CLIENTS, id, next);
      return c.json({ client_id: id, status: revoke ? "disabled" : "active" }, 200, { "Cache-Control": "no-store" });
    });
  }

  /**
   * Retires one key: checks the request against the stored record first, then sets the kill switch (effective on
   * the next request), then removes the key from an inline JWK Set. A client whose keys live at a jwks_uri keeps
   * publishing the key; the kill switch alone refuses it until the client stops publishing it.
   */
  admin.post("/clients/:id/keys/:kid/retire", async (c) => {
    const id = c.req.param("id");
    const kid = c.req.param("kid");
    const withoutKey = (r: Record<string, unknown>) => {
      if (r.jwks_uri !== undefined) return;
      const keys = (r.jwks as { keys?: Array<{ kid?: unknown }> } | undefined)?.keys;
      if (!Array.isArray(keys) || !keys.some((k) => k.kid === kid)) throw new RecordError("the client has no key with that kid");
      if (keys.length === 1) throw new RecordError("refusing to retire the client's last key");
      (r.jwks as { keys: unknown[] }).keys = keys.filter((k) => k.kid !== kid);
    };
    const next = await checkRecordChange(c.env.CLIENTS, id, withoutKey);
    await whileAvailable("replay_guard_unavailable", () => c.env.REPLAY_GUARD.getByName(id).setKeyRevoked(kid, true));
    if (next.jwks_uri === undefined) await writeRecord(c.env.CLIENTS, id, next);
    return c.json({ client_id: id, retired_kid: kid }, 200, { "Cache-Control": "no-store" });
  });

  /** Lifts a key's kill switch (the key must also be registered, or published, to be used again). */
  admin.post("/clients/:id/keys/:kid/restore", async (c) => {
    const id = c.req.param("id");
    const kid = c.req.param("kid");
    await checkRecordChange(c.env.CLIENTS, id, () => {});
    await whileAvailable("replay_guard_unavailable", () => c.env.REPLAY_GUARD.getByName(id).setKeyRevoked(kid, false));
    return c.json({ client_id: id, restored_kid: kid }, 200, { "Cache-Control": "no-store" });
  });

  return admin;
}
