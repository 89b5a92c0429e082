// The admin API (/admin/...): disable or enable a client, retire (or restore) one of its keys, read its status. It accepts only
// access tokens this server issued for its admin audience (`<issuer>/admin`) carrying the `admin` scope. Changes go
// to the client's Durable Object (the kill switch, effective on the next request everywhere) and to its KV record.
// Never logs tokens or keys.
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { clientKey, RecordError } from "../registry/record";
import { requireAdminToken } from "./admin-token";
import { auditAdminRequest } from "./audit";
import { checkRecordChange, writeRecord } from "./record-change";

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
    const revocations = await whileAvailable("replay_guard_unavailable", () =>
      c.env.CLIENT_AUTHORITY.getByName(id).revocations(),
    );
    return c.json({ client_id: id, registry_status: status, kill_switch: revocations }, 200, {
      "Cache-Control": "no-store",
    });
  });

  for (const [action, revoke] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    admin.post(`/clients/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      const next = await checkRecordChange(c.env.CLIENTS, id, (r) => {
        r.status = revoke ? "disabled" : "active";
      });
      // The Durable Object first: from this moment every location refuses (or serves) the client.
      await whileAvailable("replay_guard_unavailable", () =>
        c.env.CLIENT_AUTHORITY.getByName(id).setClientRevoked(revoke),
      );
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
      if (!Array.isArray(keys) || !keys.some((k) => k.kid === kid))
        throw new RecordError("the client has no key with that kid");
      if (keys.length === 1) throw new RecordError("refusing to retire the client's last key");
      (r.jwks as { keys: unknown[] }).keys = keys.filter((k) => k.kid !== kid);
    };
    const next = await checkRecordChange(c.env.CLIENTS, id, withoutKey);
    await whileAvailable("replay_guard_unavailable", () =>
      c.env.CLIENT_AUTHORITY.getByName(id).setKeyRevoked(kid, true),
    );
    if (next.jwks_uri === undefined) await writeRecord(c.env.CLIENTS, id, next);
    return c.json({ client_id: id, retired_kid: kid }, 200, { "Cache-Control": "no-store" });
  });

  /** Lifts a key's kill switch (the key must also be registered, or published, to be used again). */
  admin.post("/clients/:id/keys/:kid/restore", async (c) => {
    const id = c.req.param("id");
    const kid = c.req.param("kid");
    await checkRecordChange(c.env.CLIENTS, id, () => {});
    await whileAvailable("replay_guard_unavailable", () =>
      c.env.CLIENT_AUTHORITY.getByName(id).setKeyRevoked(kid, false),
    );
    return c.json({ client_id: id, restored_kid: kid }, 200, { "Cache-Control": "no-store" });
  });

  return admin;
}
