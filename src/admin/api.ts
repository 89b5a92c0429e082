// The management API (/admin/...): create, read, replace, update and delete clients, add, retire and restore keys,
// disable and enable, list, and revoke every token a client holds. Every change goes through the client's authority
// (its Durable Object), in arrival order, is checked with the registry's own rules, and may name the version it was
// prepared against (If-Match: 412 when the record has changed since). Responses carry the record's version as an
// ETag. Never logs tokens or keys.
import { type Context, Hono } from "hono";
import type { ChangeResult, ClientChange, ClientView, RevokeAllResult } from "../client-authority/contract";
import type { AppEnv } from "../context";
import { LIMITS } from "../protocol/constants";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { isValidClientId } from "../protocol/syntax";
import { forgetUnknownClient } from "../registry/client-registry";
import { clientKey } from "../registry/record";
import { requireAdminToken } from "./admin-token";
import { auditAdminRequest } from "./audit";
import { etagOf, ifMatchVersion, readJsonObject } from "./requests";

const NO_STORE = { "Cache-Control": "no-store" };

function targetId(c: Context<AppEnv>, id: string): string {
  if (!isValidClientId(id)) throw new TokenServiceError("admin_client_unknown", "not a client_id");
  c.get("adminAudit").client_id = id;
  return id;
}

/** The client's current record from its authority (adopting it from KV if the authority never held it). */
async function readClient(c: Context<AppEnv>, id: string) {
  const view = await whileAvailable(
    "replay_guard_unavailable",
    async () => (await c.env.CLIENT_AUTHORITY.getByName(id).read(id)) as ClientView | null,
  );
  if (view === null || view.record === null) throw new TokenServiceError("admin_client_unknown");
  return { record: view.record, version: view.version };
}

/** Sends a change to the client's authority and answers with the result, or throws the refusal. */
async function applyChange(c: Context<AppEnv>, id: string, change: ClientChange, status: 200 | 201 = 200) {
  const ifVersion = ifMatchVersion(c.req.header("If-Match"));
  const operator = c.get("operator");
  const actor = { clientId: operator.clientId };
  const result = await whileAvailable(
    "replay_guard_unavailable",
    async () => (await c.env.CLIENT_AUTHORITY.getByName(id).change(id, change, ifVersion, actor)) as ChangeResult,
  );
  const audit = c.get("adminAudit");
  if (!result.ok) {
    audit.version_before = result.version;
    const headers = result.version > 0 ? { ETag: etagOf(result.version) } : undefined;
    switch (result.refusal) {
      case "unknown":
        throw new TokenServiceError("admin_client_unknown");
      case "exists":
        throw new TokenServiceError("admin_client_exists", undefined, { headers });
      case "version_mismatch":
        throw new TokenServiceError("admin_version_mismatch", result.detail, { headers });
      default:
        throw new TokenServiceError("admin_request_invalid", result.detail, { publicDetail: result.detail });
    }
  }
  audit.version_before = result.versionBefore;
  audit.version_after = result.version;
  const headers = { ...NO_STORE, ETag: etagOf(result.version) };
  // This isolate may have refused the id as unknown a moment ago; it is not any more.
  forgetUnknownClient(id);
  if (result.record === null) return c.json({ client_id: id, deleted: true, version: result.version }, 200, headers);
  return c.json(result.record, status, headers);
}

export function createAdminApi(): Hono<AppEnv> {
  const admin = new Hono<AppEnv>();
  admin.use("*", auditAdminRequest, requireAdminToken);

  /** The registered clients from the KV replica (eventually consistent), a page at a time. */
  admin.get("/clients", async (c) => {
    const limitParam = c.req.query("limit");
    const limit = limitParam === undefined ? 50 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.maxAdminListPage) {
      const detail = `limit must be 1 to ${LIMITS.maxAdminListPage}`;
      throw new TokenServiceError("admin_request_invalid", detail, { publicDetail: detail });
    }
    const cursor = c.req.query("cursor");
    const prefix = clientKey("");
    const page = await whileAvailable("registry_unavailable", () =>
      c.env.CLIENTS.list<{ status?: string; version?: number }>({ prefix, limit, ...(cursor ? { cursor } : {}) }),
    );
    const clients = page.keys.map((key) => ({
      client_id: key.name.slice(prefix.length),
      status: key.metadata?.status ?? null,
      version: key.metadata?.version ?? null,
    }));
    return c.json({ clients, ...(page.list_complete ? {} : { cursor: page.cursor }) }, 200, NO_STORE);
  });

  admin.post("/clients", async (c) => {
    const record = await readJsonObject(c);
    if (typeof record.client_id !== "string" || !isValidClientId(record.client_id)) {
      const detail = `client_id must be 1 to ${LIMITS.maxClientIdLength} printable ASCII characters`;
      throw new TokenServiceError("admin_request_invalid", detail, { publicDetail: detail });
    }
    const id = targetId(c, record.client_id);
    c.header("Location", `${new URL(c.req.url).pathname}/${encodeURIComponent(id)}`);
    return applyChange(c, id, { kind: "create", record }, 201);
  });

  admin.get("/clients/:id", async (c) => {
    const id = targetId(c, c.req.param("id"));
    const { record, version } = await readClient(c, id);
    c.get("adminAudit").version_before = version;
    return c.json(record, 200, { ...NO_STORE, ETag: etagOf(version) });
  });

  admin.put("/clients/:id", async (c) => {
    const id = targetId(c, c.req.param("id"));
    return applyChange(c, id, { kind: "replace", record: await readJsonObject(c) });
  });

  admin.patch("/clients/:id", async (c) => {
    const id = targetId(c, c.req.param("id"));
    const patch = await readJsonObject(c, ["application/merge-patch+json", "application/json"]);
    return applyChange(c, id, { kind: "patch", patch });
  });

  admin.delete("/clients/:id", (c) => applyChange(c, targetId(c, c.req.param("id")), { kind: "delete" }));

  for (const [action, status] of [
    ["disable", "disabled"],
    ["enable", "active"],
  ] as const) {
    admin.post(`/clients/:id/${action}`, (c) =>
      applyChange(c, targetId(c, c.req.param("id")), { kind: "status", status }),
    );
  }

  /** Adds keys to an inline JWK Set: the body is one public JWK or a JWK Set. */
  admin.post("/clients/:id/keys", async (c) => {
    const id = targetId(c, c.req.param("id"));
    const body = await readJsonObject(c, ["application/json", "application/jwk+json", "application/jwk-set+json"]);
    const keys = Array.isArray(body.keys) ? body.keys : [body];
    return applyChange(c, id, { kind: "add_keys", keys });
  });

  for (const [action, kind] of [
    ["retire", "retire_key"],
    ["restore", "restore_key"],
  ] as const) {
    admin.post(`/clients/:id/keys/:kid/${action}`, (c) => {
      const id = targetId(c, c.req.param("id"));
      const kid = c.req.param("kid");
      c.get("adminAudit").kid = kid;
      return applyChange(c, id, { kind, kid });
    });
  }

  /**
   * Every token issued to the client until now becomes inactive, at introspection and at the admin API, in every
   * location at once (its authority holds the cut-off); tokens issued after it work. Not a record change: no version.
   */
  admin.post("/clients/:id/revoke-tokens", async (c) => {
    const id = targetId(c, c.req.param("id"));
    const result = await whileAvailable(
      "replay_guard_unavailable",
      async () => (await c.env.CLIENT_AUTHORITY.getByName(id).revokeAllTokens(id)) as RevokeAllResult,
    );
    if (!result.ok) throw new TokenServiceError("admin_client_unknown");
    return c.json({ client_id: id, tokens_revoked_before: result.revokedBefore }, 200, NO_STORE);
  });

  return admin;
}
