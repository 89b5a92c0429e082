// The admin API and the kill switch: only this server's admin-scoped access tokens are accepted, and a disable or key
// retirement takes effect on the very next token request, even while the isolate's client cache and KV still hold the
// old record. Every refusal is checked by the reason code of its audit line.
import { env, exports } from "cloudflare:workers";
import { importJWK, type JWK, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import {
  audited,
  auditLog,
  buildAssertion,
  clientKey,
  expectIssued,
  ISSUER,
  invalidClient,
  postToken,
  refusalOf,
  registerClient,
  requestToken,
  type TestClient,
  tokenForm,
} from "../support";

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
  const body = await expectIssued(response);
  return { token: body.access_token as string, clientId: operator.clientId };
}

async function adminToken(options: { scope?: string; resource?: string; scopes?: string[] } = {}): Promise<string> {
  return (await operatorToken(options)).token;
}

/** A token signed with the service's own active signing key, with claims and header chosen by the test. */
async function tokenSignedByService(claims: Record<string, unknown>, typ = "at+jwt"): Promise<string> {
  const [active] = (JSON.parse(env.SIGNING_KEYS!) as { keys: Array<JWK & { kid: string; alg: string }> }).keys;
  const key = await importJWK(active!, active!.alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, jti: crypto.randomUUID(), scope: "admin", ...claims })
    .setProtectedHeader({ alg: active!.alg, kid: active!.kid, typ })
    .sign(key);
}

function admin(path: string, token: string | undefined, method = "POST"): Promise<Response> {
  return audited(() =>
    exports.default.fetch(`${ISSUER}/admin${path}`, {
      method,
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    }),
  );
}

/** The refusal of an admin request: wire status and error, and the reason its admin audit line gives. */
function adminRefusalOf(response: Response) {
  return refusalOf(response, "admin_request");
}

/** Puts the client's original record back in KV, as a KV location that has not seen the change yet would serve it. */
async function simulateStaleKv(client: TestClient) {
  await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify(client.record));
}

describe("kill switch through the admin API", () => {
  it("refuses a disabled client on the next request, with its record still cached and KV still stale", async () => {
    const token = await adminToken();
    const client = await registerClient();
    // This first request leaves the active record in the isolate's client cache (CLIENT_CACHE_TTL).
    await expectIssued(await requestToken(client));
    expect((await admin(`/clients/${client.clientId}/disable`, token)).status).toBe(200);
    expect(JSON.parse((await env.CLIENTS.get(`client:${client.clientId}`))!).status).toBe("disabled");
    await simulateStaleKv(client);
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_revoked"));
  });

  it("serves the client again after enable", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    expect((await admin(`/clients/${client.clientId}/enable`, token)).status).toBe(200);
    await expectIssued(await requestToken(client));
  });

  it("refuses a retired key on the next request while the client's other key still works", async () => {
    const token = await adminToken();
    const oldKey = await clientKey("ES256", 41);
    const newKey = await clientKey("ES256", 42);
    const client = await registerClient({ keys: [oldKey.publicJwk, newKey.publicJwk] });
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))));
    expect((await admin(`/clients/${client.clientId}/keys/${oldKey.kid}/retire`, token)).status).toBe(200);
    await simulateStaleKv(client);
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))))).toEqual(
      invalidClient("client_revoked"),
    );
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: newKey }))));
  });

  it("does not spend the jti of a request refused by the kill switch", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await admin(`/clients/${client.clientId}/disable`, token);
    // KV still serves the active record: only the kill switch stands between this assertion and a token.
    await simulateStaleKv(client);
    const assertion = await buildAssertion(client);
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("client_revoked"));
    await admin(`/clients/${client.clientId}/enable`, token);
    await expectIssued(await postToken(tokenForm(assertion)));
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
    const response = await admin(`/clients/${client.clientId}/keys/${client.key.kid}/retire`, token);
    expect(await adminRefusalOf(response)).toEqual({
      status: 400,
      error: "invalid_request",
      reason: "admin_request_invalid",
    });
    await expectIssued(await requestToken(client));
  });

  it("answers 404 for an unknown client", async () => {
    const token = await adminToken();
    expect(await adminRefusalOf(await admin("/clients/nobody/disable", token))).toEqual({
      status: 404,
      error: "invalid_request",
      reason: "admin_client_unknown",
    });
  });
});

describe("admin API authentication", () => {
  const invalidToken = { status: 401, error: "invalid_token", reason: "admin_token_invalid" };

  it("rejects a request without a token with 401 and WWW-Authenticate", async () => {
    const response = await admin("/clients/x/disable", undefined);
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(await adminRefusalOf(response)).toEqual({
      status: 401,
      error: "invalid_request",
      reason: "admin_token_missing",
    });
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
    expect(await adminRefusalOf(await admin(`/clients/${target.clientId}`, second.token, "GET"))).toEqual(invalidToken);
    expect((await admin(`/clients/${target.clientId}`, first.token, "GET")).status).toBe(200);
  });

  it("rejects a token issued for another audience", async () => {
    const token = await adminToken({ resource: "https://api.example.test", scope: "admin" });
    expect(await adminRefusalOf(await admin("/clients/x/disable", token))).toEqual(invalidToken);
  });

  it("rejects a token without the admin scope with 403", async () => {
    const token = await adminToken({ scope: "read" });
    expect(await adminRefusalOf(await admin("/clients/x/disable", token))).toEqual({
      status: 403,
      error: "insufficient_scope",
      reason: "admin_scope_missing",
    });
  });

  it("rejects a token signed by anyone else", async () => {
    const token = await adminToken();
    const [h, p] = token.split(".");
    expect(await adminRefusalOf(await admin("/clients/x/disable", `${h}.${p}.${"A".repeat(86)}`))).toEqual(
      invalidToken,
    );
  });

  it("accepts a token the test signs with the service's key and the admin claims (positive control)", async () => {
    const operator = await operatorToken();
    const token = await tokenSignedByService({ iss: ISSUER, aud: ADMIN_AUDIENCE, client_id: operator.clientId });
    expect((await admin("/clients/x", token, "GET")).status).toBe(404);
  });

  it("rejects a token signed with the service's key but naming another issuer", async () => {
    const operator = await operatorToken();
    const token = await tokenSignedByService({
      iss: "https://other-issuer.example",
      aud: ADMIN_AUDIENCE,
      client_id: operator.clientId,
    });
    expect(await adminRefusalOf(await admin("/clients/x", token, "GET"))).toEqual(invalidToken);
  });

  it("rejects a token signed with the service's key whose typ is not at+jwt", async () => {
    const operator = await operatorToken();
    const claims = { iss: ISSUER, aud: ADMIN_AUDIENCE, client_id: operator.clientId };
    expect(await adminRefusalOf(await admin("/clients/x", await tokenSignedByService(claims, "JWT"), "GET"))).toEqual(
      invalidToken,
    );
  });

  it("rejects a token signed with the service's key without a client_id", async () => {
    const token = await tokenSignedByService({ iss: ISSUER, aud: ADMIN_AUDIENCE });
    expect(await adminRefusalOf(await admin("/clients/x", token, "GET"))).toEqual(invalidToken);
  });

  it("rejects an expired admin token", async () => {
    const operator = await operatorToken();
    const now = Math.floor(Date.now() / 1000);
    const token = await tokenSignedByService({
      iss: ISSUER,
      aud: ADMIN_AUDIENCE,
      client_id: operator.clientId,
      iat: now - 900,
      exp: now - 300,
    });
    expect(await adminRefusalOf(await admin("/clients/x", token, "GET"))).toEqual(invalidToken);
  });

  it("rejects a client assertion presented as a bearer token", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: ADMIN_AUDIENCE, scope: "admin" } });
    expect(await adminRefusalOf(await admin("/clients/x/disable", assertion))).toEqual(invalidToken);
  });
});

describe("admin audit", () => {
  it("logs one line per admin request with its outcome, and never the token", async () => {
    const token = await adminToken();
    const client = await registerClient();
    const log = vi.spyOn(console, "log");
    await admin(`/clients/${client.clientId}/disable`, token);
    await admin(`/clients/${client.clientId}/disable`, "not-a-token");
    expect(auditLog().filter((line) => line.event === "admin_request")).toEqual([
      expect.objectContaining({
        method: "POST",
        path: `/admin/clients/${client.clientId}/disable`,
        status: 200,
        outcome: "done",
      }),
      expect.objectContaining({ status: 401, outcome: "refused", reason: "admin_token_invalid" }),
    ]);
    expect(log.mock.calls.flat().join(" ")).not.toContain(token.split(".")[2]);
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
    await expectIssued(await requestToken(client));
    expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/retire`, token)).status).toBe(200);
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_revoked"));
    expect((await admin(`/clients/${client.clientId}/keys/${key.kid}/restore`, token)).status).toBe(200);
    await expectIssued(await requestToken(client));
  });

  it("sets nothing when the retirement is refused (unknown kid)", async () => {
    const token = await adminToken();
    const client = await registerClient({
      keys: [(await clientKey("ES256", 62)).publicJwk, (await clientKey("ES256", 63)).publicJwk],
    });
    expect(await adminRefusalOf(await admin(`/clients/${client.clientId}/keys/nope/retire`, token))).toEqual({
      status: 400,
      error: "invalid_request",
      reason: "admin_request_invalid",
    });
    const state = (await (await admin(`/clients/${client.clientId}`, token, "GET")).json()) as {
      kill_switch: { kids: string[] };
    };
    expect(state.kill_switch.kids).toEqual([]);
  });
});
