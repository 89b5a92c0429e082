// The management API through the Worker: a change made through a client's authority takes effect on the very next
// token request, whatever the isolate's client cache and KV still hold; records are created, read, replaced,
// patched and deleted with versions (ETag, If-Match: 412), racing writes are never lost, keys are added, retired and
// restored, clients listed. Every refusal is checked by the reason code of its audit line.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  auditLog,
  buildAssertion,
  clientKey,
  expectIssued,
  invalidClient,
  postToken,
  refusalOf,
  registerClient,
  requestToken,
  tokenForm,
} from "../support";
import { admin, adminRefusalOf, adminToken, newOperator, simulateStaleKv } from "./operator";

const invalidRequest = (reason: string, status = 400) => ({ status, error: "invalid_request", reason });

async function versionOf(response: Response): Promise<number> {
  return Number(JSON.parse(response.headers.get("ETag") ?? "0"));
}

describe("changes reach the next token request", () => {
  it("refuses a disabled client on the next request, with its record still cached and KV still stale", async () => {
    const token = await adminToken();
    const client = await registerClient();
    // This first request leaves the record in the isolate's client cache (CLIENT_CACHE_TTL).
    await expectIssued(await requestToken(client));
    expect((await admin(`/clients/${client.clientId}/disable`, token)).status).toBe(200);
    expect(JSON.parse((await env.CLIENTS.get(`client:${client.clientId}`))!).status).toBe("disabled");
    await simulateStaleKv(client);
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_disabled"));
  });

  it("serves the client again after enable", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    expect((await admin(`/clients/${client.clientId}/enable`, token)).status).toBe(200);
    await expectIssued(await requestToken(client));
  });

  it("refuses a retired inline key on the next request while the client's other key still works", async () => {
    const token = await adminToken();
    const oldKey = await clientKey("ES256", 41);
    const newKey = await clientKey("ES256", 42);
    const client = await registerClient({ keys: [oldKey.publicJwk, newKey.publicJwk] });
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))));
    expect((await admin(`/clients/${client.clientId}/keys/${oldKey.kid}/retire`, token)).status).toBe(200);
    await simulateStaleKv(client);
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))))).toEqual(
      invalidClient("no_matching_key"),
    );
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: newKey }))));
  });

  it("does not spend the jti of a request its authority refuses", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    // KV still serves the active record: only the authority stands between this assertion and a token.
    await simulateStaleKv(client);
    const assertion = await buildAssertion(client);
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("client_disabled"));
    await admin(`/clients/${client.clientId}/enable`, token);
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("grants only the scopes of the authority's record when KV still serves wider ones", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await expectIssued(await requestToken(client, { scope: "write" }));
    expect((await admin(`/clients/${client.clientId}`, token, "PATCH", { body: { scopes: ["read"] } })).status).toBe(
      200,
    );
    await simulateStaleKv(client);
    expect(await refusalOf(await requestToken(client, { scope: "write" }))).toEqual({
      status: 400,
      error: "invalid_scope",
      reason: "scope_not_allowed",
    });
    expect((await expectIssued(await requestToken(client))).scope).toBe("read");
  });

  it("retires a key of a jwks_uri client, which it may still publish, and restores it", async () => {
    const token = await adminToken();
    const key = await clientKey("ES256", 61);
    const uri = `https://keys.client.example/${crypto.randomUUID()}/jwks.json`;
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ keys: [key.publicJwk] }));
    const client = { ...(await registerClient({ record: { jwks: undefined, jwks_uri: uri } })), key };
    await expectIssued(await requestToken(client));
    expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/retire`, token)).status).toBe(200);
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("key_retired"));
    expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/restore`, token)).status).toBe(200);
    await expectIssued(await requestToken(client));
  });

  it("refuses to retire a client's last key, and changes nothing", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const response = await admin(`/clients/${client.clientId}/keys/${client.key.kid}/retire`, token);
    expect(await adminRefusalOf(response)).toEqual(invalidRequest("admin_request_invalid"));
    await expectIssued(await requestToken(client));
  });

  it("refuses to retire a kid the client does not have, and sets nothing", async () => {
    const token = await adminToken();
    const client = await registerClient({
      keys: [(await clientKey("ES256", 62)).publicJwk, (await clientKey("ES256", 63)).publicJwk],
    });
    const response = await admin(`/clients/${client.clientId}/keys/nope/retire`, token);
    const body = (await response.clone().json()) as { error_description: string };
    expect(await adminRefusalOf(response)).toEqual(invalidRequest("admin_request_invalid"));
    expect(body.error_description).toBe("no key with kid 'nope'");
    const record = (await (await admin(`/clients/${client.clientId}`, token, "GET")).json()) as Record<string, unknown>;
    expect(record).not.toHaveProperty("retired_kids");
    expect(record.version).toBe(1);
  });

  it("answers 404 for an unknown client", async () => {
    const token = await adminToken();
    expect(await adminRefusalOf(await admin("/clients/nobody/disable", token))).toEqual(
      invalidRequest("admin_client_unknown", 404),
    );
  });
});

describe("records and versions", () => {
  it("creates a client that gets tokens at once, with ETag and Location, and refuses to create it twice", async () => {
    const token = await adminToken();
    const key = await clientKey("ES256", 71);
    const record = {
      client_id: `made-${crypto.randomUUID()}`,
      status: "active",
      jwks: { keys: [key.publicJwk] },
      scopes: ["read"],
      audiences: [],
    };
    const created = await admin("/clients", token, "POST", { body: record });
    expect(created.status).toBe(201);
    expect(created.headers.get("ETag")).toBe('"1"');
    expect(created.headers.get("Location")).toBe(`/admin/clients/${record.client_id}`);
    expect(await created.json()).toMatchObject({ ...record, version: 1 });
    const client = { clientId: record.client_id, key, record: record as never };
    await expectIssued(await requestToken(client));
    expect(await adminRefusalOf(await admin("/clients", token, "POST", { body: record }))).toEqual(
      invalidRequest("admin_client_exists", 409),
    );
  });

  it("registers an id this isolate refused as unknown a moment ago: its first token follows at once", async () => {
    const token = await adminToken();
    const key = await clientKey("ES256");
    const record = {
      client_id: `late-${crypto.randomUUID()}`,
      status: "active",
      jwks: { keys: [key.publicJwk] },
      scopes: ["read"],
      audiences: [],
    };
    const client = { clientId: record.client_id, key, record: record as never };
    // KV has no record: the isolate remembers that for CLIENT_CACHE_TTL (5 s here)...
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_unknown"));
    expect((await admin("/clients", token, "POST", { body: record })).status).toBe(201);
    // ...and forgets it when the admin API registers the id.
    await expectIssued(await requestToken(client));
  });

  it("refuses a record the registry rules refuse, and says why", async () => {
    const token = await adminToken();
    const record = {
      client_id: "weak",
      status: "active",
      jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] },
      scopes: [],
      audiences: [],
    };
    const response = await admin("/clients", token, "POST", { body: record });
    const { error_description } = (await response.clone().json()) as { error_description: string };
    expect(await adminRefusalOf(response)).toEqual(invalidRequest("admin_request_invalid"));
    expect(error_description).toBe("jwks: symmetric (oct) keys are refused: register an asymmetric public key");
  });

  it("reads the authority's record with its version, adopting a record the CLI wrote to KV", async () => {
    const token = await adminToken();
    const client = await registerClient({ bootstrap: true });
    const response = await admin(`/clients/${client.clientId}`, token, "GET");
    expect(response.headers.get("ETag")).toBe('"1"');
    expect(await response.json()).toEqual({ ...client.record, version: 1 });
  });

  it("replaces a record that names the current version, and refuses one that names an older version with 412", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const read = await admin(`/clients/${client.clientId}`, token, "GET");
    const version = await versionOf(read);
    const next = { ...client.record, name: "renamed" };
    const replaced = await admin(`/clients/${client.clientId}`, token, "PUT", {
      body: next,
      headers: { "If-Match": `"${version}"` },
    });
    expect(replaced.status).toBe(200);
    expect(await versionOf(replaced)).toBe(version + 1);
    const late = await admin(`/clients/${client.clientId}`, token, "PUT", {
      body: { ...client.record, name: "late" },
      headers: { "If-Match": `"${version}"` },
    });
    expect(late.headers.get("ETag")).toBe(`"${version + 1}"`);
    expect(await adminRefusalOf(late)).toEqual(invalidRequest("admin_version_mismatch", 412));
    expect(await (await admin(`/clients/${client.clientId}`, token, "GET")).json()).toMatchObject({ name: "renamed" });
  });

  it("keeps the retired kids of a jwks_uri client across a replacement that does not name them", async () => {
    const token = await adminToken();
    const key = await clientKey("ES256", 61);
    const uri = `https://keys.client.example/${crypto.randomUUID()}/jwks.json`;
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ keys: [key.publicJwk] }));
    const client = { ...(await registerClient({ record: { jwks: undefined, jwks_uri: uri } })), key };
    expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/retire`, token)).status).toBe(200);
    const replaced = await admin(`/clients/${client.clientId}`, token, "PUT", {
      body: { ...client.record, name: "re-registered" },
    });
    expect(await replaced.json()).toMatchObject({ name: "re-registered", retired_kids: [key.kid] });
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("key_retired"));
    const cleared = await admin(`/clients/${client.clientId}`, token, "PUT", {
      body: { ...client.record, retired_kids: [] },
    });
    expect(((await cleared.json()) as { retired_kids?: string[] }).retired_kids ?? []).toEqual([]);
    await expectIssued(await requestToken(client));
  });

  it("applies two racing updates of different fields, both of them", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const [a, b] = await Promise.all([
      admin(`/clients/${client.clientId}`, token, "PATCH", { body: { name: "a-name" } }),
      admin(`/clients/${client.clientId}`, token, "PATCH", { body: { token_ttl: 120 } }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const record = (await (await admin(`/clients/${client.clientId}`, token, "GET")).json()) as Record<string, unknown>;
    expect(record).toMatchObject({ name: "a-name", token_ttl: 120, version: 3 });
  });

  it("lets only one of two racing updates that name the same version through; the other gets 412", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const version = await versionOf(await admin(`/clients/${client.clientId}`, token, "GET"));
    const ifMatch = { "If-Match": `"${version}"` };
    const responses = await Promise.all([
      admin(`/clients/${client.clientId}`, token, "PATCH", { body: { name: "first" }, headers: ifMatch }),
      admin(`/clients/${client.clientId}`, token, "PATCH", { body: { name: "second" }, headers: ifMatch }),
    ]);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = responses.find((r) => r.status === 200)!;
    const record = (await (await admin(`/clients/${client.clientId}`, token, "GET")).json()) as Record<string, unknown>;
    expect(record).toMatchObject({ name: ((await winner.json()) as { name: string }).name, version: version + 1 });
  });

  it("applies an update to the authority's record, not to the older one KV still serves", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    await simulateStaleKv(client);
    const patched = await admin(`/clients/${client.clientId}`, token, "PATCH", { body: { name: "kept-disabled" } });
    expect(await patched.json()).toMatchObject({ status: "disabled", name: "kept-disabled" });
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_disabled"));
  });

  it("deletes a client: no more tokens, 404 after, KV record gone; added again, it starts clean", async () => {
    const token = await adminToken();
    const client = await registerClient({ record: { rate_limit: { requests: 1, per_seconds: 3600 } } });
    const spent = await buildAssertion(client);
    await expectIssued(await postToken(tokenForm(spent)));
    const deleted = await admin(`/clients/${client.clientId}`, token, "DELETE");
    expect(await deleted.json()).toEqual({ client_id: client.clientId, deleted: true, version: 2 });
    expect(await env.CLIENTS.get(`client:${client.clientId}`)).toBeNull();
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_unknown"));
    expect(await adminRefusalOf(await admin(`/clients/${client.clientId}`, token, "GET"))).toEqual(
      invalidRequest("admin_client_unknown", 404),
    );
    const again = await admin("/clients", token, "POST", { body: client.record });
    expect(again.headers.get("ETag")).toBe('"3"');
    // A new budget (the old one was used up), and the assertion spent before the deletion is still spent.
    await expectIssued(await requestToken(client));
    expect(await refusalOf(await postToken(tokenForm(spent)))).toEqual(invalidClient("replayed"));
  });

  it("adds a key that the client can sign with at once, though the isolate still caches the older record", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await expectIssued(await requestToken(client));
    await simulateStaleKv(client);
    const added = await clientKey("ES256", 72);
    expect((await admin(`/clients/${client.clientId}/keys`, token, "POST", { body: added.publicJwk })).status).toBe(
      200,
    );
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: added }))));
    const twice = await admin(`/clients/${client.clientId}/keys`, token, "POST", { body: added.publicJwk });
    expect(await adminRefusalOf(twice)).toEqual(invalidRequest("admin_request_invalid"));
  });

  it("lists clients with their status and version, a page at a time", async () => {
    const token = await adminToken();
    const created = [await registerClient(), await registerClient(), await registerClient()];
    for (const client of created) await admin(`/clients/${client.clientId}/disable`, token);
    const seen = new Map<string, unknown>();
    let cursor: string | undefined;
    do {
      const page = (await (
        await admin(`/clients?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token, "GET")
      ).json()) as {
        clients: Array<{ client_id: string; status: string; version: number }>;
        cursor?: string;
      };
      expect(page.clients.length).toBeLessThanOrEqual(2);
      for (const entry of page.clients) seen.set(entry.client_id, entry);
      cursor = page.cursor;
    } while (cursor);
    for (const client of created) {
      expect(seen.get(client.clientId)).toEqual({ client_id: client.clientId, status: "disabled", version: 2 });
    }
    expect(await adminRefusalOf(await admin("/clients?limit=1000", token, "GET"))).toEqual(
      invalidRequest("admin_request_invalid"),
    );
  });

  it("refuses a body that is not a JSON object, and an If-Match that is not one strong tag", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const path = `/clients/${client.clientId}`;
    for (const body of ["[1]", "{bad", '{"a":1,"a":2}']) {
      expect(await adminRefusalOf(await admin(path, token, "PATCH", { body }))).toEqual(
        invalidRequest("admin_request_invalid"),
      );
    }
    const weak = await admin(path, token, "PATCH", { body: { name: "x" }, headers: { "If-Match": 'W/"1"' } });
    expect(await adminRefusalOf(weak)).toEqual(invalidRequest("admin_request_invalid"));
  });
});

describe("admin audit", () => {
  it("names the operator, its key and token, the target and the versions, and never the token", async () => {
    const operator = await newOperator();
    const client = await registerClient();
    const log = vi.spyOn(console, "log");
    await admin(`/clients/${client.clientId}/disable`, operator.token);
    await admin(`/clients/${client.clientId}/disable`, "not-a-token");
    expect(auditLog().filter((line) => line.event === "admin_request")).toEqual([
      expect.objectContaining({
        method: "POST",
        path: `/admin/clients/${client.clientId}/disable`,
        status: 200,
        outcome: "done",
        operator: operator.clientId,
        operator_kid: operator.client.key.kid,
        admin_token_jti_sha256: expect.stringMatching(/^[0-9a-f]{16}$/),
        client_id: client.clientId,
        version_before: 1,
        version_after: 2,
      }),
      expect.objectContaining({ status: 401, outcome: "refused", reason: "admin_token_invalid" }),
    ]);
    expect(log.mock.calls.flat().join(" ")).not.toContain(operator.token.split(".")[2]);
  });
});
