// Admin API authentication: only this server's admin tokens (typ, issuer, sole admin audience, unexpired, client_id,
// client_key, admin scope) are accepted, admin tokens live at most 300 s, and one dies with its operator's standing:
// the key that obtained it retired, the operator disabled, or the admin scope taken away. Checked by reason code.

import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../src/protocol/constants";
import { buildAssertion, clientKey, expectIssued, postToken, refusalOf, registerClient, tokenForm } from "../support";
import {
  ADMIN_AUDIENCE,
  admin,
  adminRefusalOf,
  adminToken,
  adminTokenFor,
  newOperator,
  tokenSignedByService,
} from "./operator";

const invalidToken = { status: 401, error: "invalid_token", reason: "admin_token_invalid" };

describe("admin tokens", () => {
  it(`live at most ${LIMITS.maxAdminTokenTtl} s whatever ACCESS_TOKEN_TTL is, and carry the key that obtained them`, async () => {
    const operator = await registerClient({ record: { scopes: ["admin"], audiences: [ADMIN_AUDIENCE] } });
    const body = await expectIssued(
      await postToken(tokenForm(await buildAssertion(operator), { scope: "admin", resource: ADMIN_AUDIENCE })),
    );
    expect(body.expires_in).toBe(LIMITS.maxAdminTokenTtl);
    const claims = decodeJwt(body.access_token as string);
    expect(claims.exp! - claims.iat!).toBe(LIMITS.maxAdminTokenTtl);
    expect(claims).toMatchObject({ aud: ADMIN_AUDIENCE, client_key: operator.key.kid });
  });

  it("are never issued for the admin audience together with another", async () => {
    const operator = await registerClient({
      record: { scopes: ["admin"], audiences: [ADMIN_AUDIENCE, "https://api.example.test"] },
    });
    const form = tokenForm(await buildAssertion(operator), {
      scope: "admin",
      resource: [ADMIN_AUDIENCE, "https://api.example.test"],
    });
    expect(await refusalOf(await postToken(form))).toEqual({
      status: 400,
      error: "invalid_target",
      reason: "admin_audience_not_alone",
    });
  });
});

describe("admin API authentication", () => {
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
      const response = await admin(`/clients/${client.clientId}`, undefined, "GET", {
        headers: { Authorization: `${scheme} ${token}` },
      });
      expect(response.status, scheme).toBe(200);
    }
  });

  it("refuses a token as soon as the key that obtained it is retired, while the operator's other key still works", async () => {
    const keyA = await clientKey("ES256", 81);
    const keyB = await clientKey("ES256", 82);
    const operator = await newOperator({ keys: [keyA.publicJwk, keyB.publicJwk], signWith: keyA });
    const tokenA = operator.token;
    const tokenB = await adminTokenFor(operator.client, { signWith: keyB });
    const target = await registerClient();
    expect((await admin(`/clients/${target.clientId}`, tokenA, "GET")).status).toBe(200);
    expect((await admin(`/clients/${operator.clientId}/keys/${keyA.kid}/retire`, tokenB)).status).toBe(200);
    expect(await adminRefusalOf(await admin(`/clients/${target.clientId}`, tokenA, "GET"))).toEqual(invalidToken);
    expect((await admin(`/clients/${target.clientId}`, tokenB, "GET")).status).toBe(200);
  });

  it("refuses the still unexpired tokens of an operator once it is disabled", async () => {
    const first = await newOperator();
    const second = await newOperator();
    const target = await registerClient();
    expect((await admin(`/clients/${target.clientId}`, second.token, "GET")).status).toBe(200);
    expect((await admin(`/clients/${second.clientId}/disable`, first.token)).status).toBe(200);
    expect(await adminRefusalOf(await admin(`/clients/${target.clientId}`, second.token, "GET"))).toEqual(invalidToken);
    expect((await admin(`/clients/${target.clientId}`, first.token, "GET")).status).toBe(200);
  });

  it("refuses the tokens of an operator whose record no longer grants the admin scope", async () => {
    const first = await newOperator();
    const second = await newOperator();
    const target = await registerClient();
    const patch = { body: { scopes: ["read"] } };
    expect((await admin(`/clients/${second.clientId}`, first.token, "PATCH", patch)).status).toBe(200);
    expect(await adminRefusalOf(await admin(`/clients/${target.clientId}`, second.token, "GET"))).toEqual(invalidToken);
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

  describe("tokens signed with the service's own key", () => {
    async function claimsFor() {
      const operator = await newOperator();
      return {
        iss: "https://as.example.test",
        aud: ADMIN_AUDIENCE,
        client_id: operator.clientId,
        client_key: operator.client.key.kid,
      };
    }

    it("accepts the admin claims as the service issues them (positive control)", async () => {
      const token = await tokenSignedByService(await claimsFor());
      expect((await admin("/clients/x", token, "GET")).status).toBe(404);
    });

    it.each([
      ["naming another issuer", { iss: "https://other-issuer.example" }],
      ["with the admin audience beside another", { aud: [ADMIN_AUDIENCE, "https://api.example.test"] }],
      ["without a client_id", { client_id: undefined }],
      ["without the client_key of the operator's key", { client_key: undefined }],
      ["with a client_key the operator never registered", { client_key: "someone-elses-key" }],
    ])("rejects one %s", async (_name, change) => {
      const claims: Record<string, unknown> = { ...(await claimsFor()), ...change };
      for (const [name, value] of Object.entries(change)) if (value === undefined) delete claims[name];
      expect(await adminRefusalOf(await admin("/clients/x", await tokenSignedByService(claims), "GET"))).toEqual(
        invalidToken,
      );
    });

    it("rejects one whose typ is not at+jwt", async () => {
      const token = await tokenSignedByService(await claimsFor(), "JWT");
      expect(await adminRefusalOf(await admin("/clients/x", token, "GET"))).toEqual(invalidToken);
    });

    it("rejects an expired one", async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await tokenSignedByService({ ...(await claimsFor()), iat: now - 900, exp: now - 300 });
      expect(await adminRefusalOf(await admin("/clients/x", token, "GET"))).toEqual(invalidToken);
    });
  });

  it("rejects a client assertion presented as a bearer token", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: ADMIN_AUDIENCE, scope: "admin" } });
    expect(await adminRefusalOf(await admin("/clients/x/disable", assertion))).toEqual(invalidToken);
  });
});
