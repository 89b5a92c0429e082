// RFC 7009 revocation through the Worker: a client revokes its own access token, which is inactive from the next
// call on (at introspection and at the admin API); another client's token is refused and stays active; invalid,
// unknown and expired tokens get 200 and change nothing; the revoked jti is kept until the token's expiry, then purged.
// Refusals are checked by reason code, answers by the state the audit line records.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { ClientAuthority } from "../../../src/client-authority/authority";
import { ADMIN_AUDIENCE, admin, adminRefusalOf, newOperator, tokenSignedByService } from "../admin/operator";
import { auditOf, buildAssertion, ISSUER, invalidClient, refusalOf, registerClient } from "../support";
import { accessTokenFor, changeClient, inspect, registerIntrospector, revoke } from "./support";

function stateOf(response: Response): unknown {
  return auditOf(response, "revocation_request").target_state;
}

/** Revokes `token` as `as` and checks the RFC 7009 answer: 200, no body, not cached. */
async function revoked(token: string, as: Awaited<ReturnType<typeof registerClient>>, hint?: string) {
  const response = await revoke(token, { as, ...(hint ? { hint } : {}) });
  expect(response.status).toBe(200);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(await response.text()).toBe("");
  return response;
}

describe("revocation of a client's own token", () => {
  it("makes it inactive at the next introspection", async () => {
    const [caller, client] = [await registerIntrospector(), await registerClient()];
    const token = await accessTokenFor(client);
    expect((await inspect(token, caller)).body.active).toBe(true);
    expect(stateOf(await revoked(token, client))).toBe("revoked");
    expect((await inspect(token, caller)).body).toEqual({ active: false });
  });

  it("takes a token_type_hint of either registered type, or an unknown one, and revokes the access token", async () => {
    const [caller, client] = [await registerIntrospector(), await registerClient()];
    for (const hint of ["access_token", "refresh_token", "id_token"]) {
      const token = await accessTokenFor(client);
      const response = await revoked(token, client, hint);
      expect(auditOf(response, "revocation_request")).toMatchObject({
        target_state: "revoked",
        ...(hint === "id_token" ? {} : { token_type_hint: hint }),
      });
      expect((await inspect(token, caller)).body).toEqual({ active: false });
    }
  });

  it("ends an admin token at once: the admin API refuses it on its next request", async () => {
    const operator = await newOperator();
    expect((await admin(`/clients/${operator.clientId}`, operator.token, "GET")).status).toBe(200);
    await revoked(operator.token, operator.client);
    expect(await adminRefusalOf(await admin(`/clients/${operator.clientId}`, operator.token, "GET"))).toEqual({
      status: 401,
      error: "invalid_token",
      reason: "admin_token_invalid",
    });
  });

  it("keeps the revoked jti until the token's expiry plus the clock skew, then purges it", async () => {
    const client = await registerClient();
    const token = await accessTokenFor(client);
    await revoked(token, client);
    const stub = env.CLIENT_AUTHORITY.getByName(client.clientId);
    const rows = () =>
      runInDurableObject(stub, (_: ClientAuthority, state) =>
        state.storage.sql.exec<{ expires_at: number }>("SELECT expires_at FROM revoked_token").toArray(),
      );
    const exp = decodeJwt(token).exp!;
    const skew = Number(env.CLOCK_SKEW);
    expect(await rows()).toEqual([{ expires_at: (exp + skew) * 1000 }]);
    await runInDurableObject(stub, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE revoked_token SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows()).toEqual([]);
  });
});

describe("revocation answers 200 and changes nothing", () => {
  it("for a value that is not a token, a token this server did not sign, and an expired token", async () => {
    const client = await registerClient();
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, sub: client.clientId, client_id: client.clientId, client_key: client.key.kid };
    const expired = await tokenSignedByService({ ...claims, aud: ADMIN_AUDIENCE, iat: now - 60, exp: now - 1 });
    const idToken = await tokenSignedByService({ ...claims, aud: ADMIN_AUDIENCE }, "JWT");
    const states = [];
    for (const token of ["garbage", idToken, expired]) states.push(stateOf(await revoked(token, client)));
    expect(states).toEqual(["token_malformed", "token_not_ours", "token_expired"]);
  });
});

describe("revocation refuses", () => {
  it("another client's token, which stays active, and spends nothing: the same assertion revokes its own", async () => {
    const [caller, owner, other] = [await registerIntrospector(), await registerClient(), await registerClient()];
    const token = await accessTokenFor(owner);
    const own = await accessTokenFor(other);
    const assertion = await buildAssertion(other);
    const refused = await revoke(token, { assertion });
    expect(refused.status).toBe(400);
    expect(await refusalOf(refused, "revocation_request")).toEqual({
      status: 400,
      error: "unauthorized_client",
      reason: "revocation_not_owner",
    });
    expect((await inspect(token, caller)).body.active).toBe(true);
    expect((await revoke(own, { assertion })).status).toBe(200);
    expect((await inspect(own, caller)).body).toEqual({ active: false });
  });

  it("a caller without client authentication, with 401 invalid_client", async () => {
    const client = await registerClient();
    const token = await accessTokenFor(client);
    expect(await refusalOf(await revoke(token), "revocation_request")).toEqual(
      invalidClient("client_assertion_missing"),
    );
  });

  it("a disabled client: its assertion fails as at the token endpoint", async () => {
    const client = await registerClient();
    const token = await accessTokenFor(client);
    await changeClient(client.clientId, { kind: "status", status: "disabled" });
    expect(await refusalOf(await revoke(token, { as: client }), "revocation_request")).toEqual(
      invalidClient("client_disabled"),
    );
  });
});
