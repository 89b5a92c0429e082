// The admin API and the kill switch: only this server's admin-scoped tokens are accepted, and a disable or key
// retirement takes effect on the very next token request, even while KV still serves the old record.
import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  buildAssertion,
  clientKey,
  errorOf,
  ISSUER,
  postToken,
  registerClient,
  requestToken,
  type TestClient,
  tokenForm,
} from "../support";

afterEach(() => reset());

const ADMIN_AUDIENCE = `${ISSUER}/admin`;

/** An access token for a new operator client, and that client's id. */
async function operatorToken(options: { scope?: string; resource?: string; scopes?: string[] } = {}) {
  const operator = await registerClient({
    record: { scopes: options.scopes ?? ["admin", "read"], audiences: [ADMIN_AUDIENCE, "https://api.example.test"] },
  });
  const response = await requestToken(operator, {
    scope: options.scope ?? "admin",
    resource: options.resource ?? ADMIN_AUDIENCE,
  });
  expect(response.status).toBe(200);
  return { token: ((await response.json()) as { access_token: string }).access_token, clientId: operator.clientId };
}

async function adminToken(options: { scope?: string; resource?: string; scopes?: string[] } = {}): Promise<string> {
  return (await operatorToken(options)).token;
}

function admin(path: string, token: string | undefined, method = "POST"): Promise<Response> {
  return exports.default.fetch(`${ISSUER}/admin${path}`, {
    method,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
}

/** Puts the client's original record back in KV, as a KV location that has not seen the change yet would serve it. */
async function simulateStaleKv(client: TestClient) {
  await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify(client.record));
}

describe("kill switch through the admin API", () => {
  it("refuses a disabled client on the next request, with no wait for KV", async () => {
    const token = await adminToken();
    const client = await registerClient();
    expect((await requestToken(client)).status).toBe(200);
    const response = await admin(`/clients/${client.clientId}/disable`, token);
    expect(response.status).toBe(200);
    expect(JSON.parse((await env.CLIENTS.get(`client:${client.clientId}`))!).status).toBe("disabled");
    await simulateStaleKv(client);
    expect(await errorOf(await requestToken(client))).toMatchObject({ status: 401, error: "invalid_client" });
  });

  it("serves the client again after enable", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    expect((await admin(`/clients/${client.clientId}/enable`, token)).status).toBe(200);
    expect((await requestToken(client)).status).toBe(200);
  });

  it("refuses a retired key on the next request while the client's other key still works", async () => {
    const token = await adminToken();
    const oldKey = await clientKey("ES256", 41);
    const newKey = await clientKey("ES256", 42);
    const client = await registerClient({ keys: [oldKey.publicJwk, newKey.publicJwk] });
    expect((await admin(`/clients/${client.clientId}/keys/${oldKey.kid}/retire`, token)).status).toBe(200);
    await simulateStaleKv(client);
    expect((await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey })))).status).toBe(401);
    expect((await postToken(tokenForm(await buildAssertion(client, { signWith: newKey })))).status).toBe(200);
  });

  it("does not spend the jti of a request refused by the kill switch", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    const assertion = await buildAssertion(client);
    expect((await postToken(tokenForm(assertion))).status).toBe(401);
    await admin(`/clients/${client.clientId}/enable`, token);
    await simulateStaleKv(client);
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
  });

  it("reports registry status and kill switch state", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    const body = (await (await admin(`/clients/${client.clientId}`, token, "GET")).json()) as Record<string, unknown>;
    expect(body).toEqual({
      client_id: client.clientId,
      registry_status: "disabled",
      kill_switch: { client: true, kids: [] },
    });
  });

  it("refuses to retire a client's last key", async () => {
    const token = await adminToken();
    const client = await registerClient();
    expect(
      await errorOf(await admin(`/clients/${client.clientId}/keys/${client.key.kid}/retire`, token)),
    ).toMatchObject({
      status: 400,
      error: "invalid_request",
    });
    expect((await requestToken(client)).status).toBe(200);
  });

  it("answers 404 for an unknown client", async () => {
    const token = await adminToken();
    expect((await admin("/clients/nobody/disable", token)).status).toBe(404);
  });
});

describe("admin API authentication", () => {
  it("rejects a request without a token with 401 and WWW-Authenticate", async () => {
    const response = await admin("/clients/x/disable", undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("accepts the Bearer scheme name in any case", async () => {
    const token = await adminToken();
    const client = await registerClient();
    for (const scheme of ["bearer", "BEARER", "Bearer"]) {
      const response = await exports.default.fetch(`${ISSUER}/admin/clients/${client.clientId}`, {
        headers: { Authorization: `${scheme} ${token}` },
      });
      expect(response.status, scheme).toBe(200);
    }
  });

  it("refuses the still unexpired tokens of an operator disabled through the kill switch", async () => {
    const first = await operatorToken();
    const second = await operatorToken();
    const target = await registerClient();
    expect((await admin(`/clients/${target.clientId}`, second.token, "GET")).status).toBe(200);
    expect((await admin(`/clients/${second.clientId}/disable`, first.token)).status).toBe(200);
    expect(await errorOf(await admin(`/clients/${target.clientId}`, second.token, "GET"))).toMatchObject({
      status: 401,
      error: "invalid_token",
    });
    expect((await admin(`/clients/${target.clientId}`, first.token, "GET")).status).toBe(200);
  });

  it("rejects a token issued for another audience", async () => {
    const token = await adminToken({ resource: "https://api.example.test", scope: "admin" });
    expect(await errorOf(await admin("/clients/x/disable", token))).toMatchObject({
      status: 401,
      error: "invalid_token",
    });
  });

  it("rejects a token without the admin scope with 403", async () => {
    const token = await adminToken({ scope: "read" });
    expect(await errorOf(await admin("/clients/x/disable", token))).toMatchObject({
      status: 403,
      error: "insufficient_scope",
    });
  });

  it("rejects a token signed by anyone else", async () => {
    const token = await adminToken();
    const [h, p] = token.split(".");
    expect(await errorOf(await admin("/clients/x/disable", `${h}.${p}.${"A".repeat(86)}`))).toMatchObject({
      status: 401,
      error: "invalid_token",
    });
  });

  it("rejects a client assertion presented as a bearer token", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: ADMIN_AUDIENCE, scope: "admin" } });
    expect((await admin("/clients/x/disable", assertion)).status).toBe(401);
  });
});

describe("admin audit", () => {
  it("logs one line per admin request with its outcome, and never the token", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await admin(`/clients/${client.clientId}/disable`, token);
      await admin(`/clients/${client.clientId}/disable`, "not-a-token");
      const lines = log.mock.calls
        .map((a) => String(a[0]))
        .filter((l) => l.includes('"admin_request"'))
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        expect.objectContaining({
          method: "POST",
          path: `/admin/clients/${client.clientId}/disable`,
          status: 200,
          outcome: "done",
        }),
        expect.objectContaining({ status: 401, outcome: "refused", reason: "admin_token_invalid" }),
      ]);
      expect(log.mock.calls.flat().join(" ")).not.toContain(token.split(".")[2]);
    } finally {
      log.mockRestore();
    }
  });
});

describe("key retirement edge cases", () => {
  it("retires a key of a jwks_uri client through the kill switch alone, and restores it", async () => {
    const token = await adminToken();
    const key = await clientKey("ES256", 61);
    const uri = `https://keys.client.example/${crypto.randomUUID()}/jwks.json`;
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ keys: [key.publicJwk] }));
    const base = await registerClient();
    const { jwks: _inline, ...rest } = base.record;
    await env.CLIENTS.put(`client:${base.clientId}`, JSON.stringify({ ...rest, jwks_uri: uri }));
    const client = { ...base, key };
    try {
      expect((await requestToken(client)).status).toBe(200);
      expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/retire`, token)).status).toBe(200);
      expect((await requestToken(client)).status).toBe(401);
      expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/restore`, token)).status).toBe(200);
      expect((await requestToken(client)).status).toBe(200);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("sets nothing when the retirement is refused (unknown kid)", async () => {
    const token = await adminToken();
    const client = await registerClient({
      keys: [(await clientKey("ES256", 62)).publicJwk, (await clientKey("ES256", 63)).publicJwk],
    });
    expect((await admin(`/clients/${client.clientId}/keys/nope/retire`, token)).status).toBe(400);
    const state = (await (await admin(`/clients/${client.clientId}`, token, "GET")).json()) as {
      kill_switch: { kids: string[] };
    };
    expect(state.kill_switch.kids).toEqual([]);
  });
});
