// RFC 7662 introspection through the Worker: an active token's claims for a caller whose record allows it, and
// `{"active": false}` and nothing else for every token that is not active: not ours, expired, its key no longer
// published, revoked, its client disabled, removed or cut off, the key that obtained it retired or removed. Callers
// authenticate with private_key_jwt; a refusal is checked by reason code, an inactive answer by the state its audit
// line records.
import { env, runInDurableObject } from "cloudflare:test";
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { ClientAuthority } from "../../../src/client-authority/authority";
import { admin, adminToken, simulateStaleKv, tokenSignedByService } from "../admin/operator";
import { buildProof, proofKey } from "../dpop/proofs";
import {
  buildAssertion,
  clientKey,
  expectIssued,
  get,
  ISSUER,
  invalidClient,
  postToken,
  refusalOf,
  registerClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";
import { accessTokenFor, changeClient, inspect, introspect, registerIntrospector, revoke } from "./support";

const INACTIVE = { active: false };

describe("introspection of an active token", () => {
  it("answers active with the token's claims, and nothing the issuer keeps to itself", async () => {
    const [caller, client] = [await registerIntrospector(), await registerClient()];
    const token = await accessTokenFor(client, { scope: "read" });
    const claims = decodeJwt(token);
    const { body, state } = await inspect(token, caller);
    expect(body).toEqual({
      active: true,
      iss: ISSUER,
      sub: client.clientId,
      client_id: client.clientId,
      aud: "https://api.example.test",
      scope: "read",
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      token_type: "Bearer",
    });
    expect(state).toBe("active");
  });

  it("says a DPoP-bound token is DPoP, with its cnf", async () => {
    const [caller, client, key] = [await registerIntrospector(), await registerClient(), await proofKey()];
    const response = await postToken(tokenForm(await buildAssertion(client)), {
      headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT) },
    });
    const token = (await expectIssued(response)).access_token as string;
    const { body } = await inspect(token, caller);
    expect(body).toMatchObject({ active: true, token_type: "DPoP", cnf: { jkt: key.jkt } });
  });

  it("lets a client bound to DPoP introspect without a proof: it asks for no token", async () => {
    const caller = await registerIntrospector({ dpop_bound_access_tokens: true });
    const token = await accessTokenFor(await registerClient());
    expect((await inspect(token, caller)).body.active).toBe(true);
  });

  it("is advertised in the metadata, with private_key_jwt its only authentication", async () => {
    const metadata = (await (await get("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      introspection_endpoint: `${ISSUER}/introspect`,
      introspection_endpoint_auth_methods_supported: ["private_key_jwt"],
      revocation_endpoint: `${ISSUER}/revoke`,
      revocation_endpoint_auth_methods_supported: ["private_key_jwt"],
    });
  });
});

describe("introspection answers active: false, and nothing else,", () => {
  it("for a token its client revoked", async () => {
    const [caller, client] = [await registerIntrospector(), await registerClient()];
    const token = await accessTokenFor(client);
    expect((await revoke(token, { as: client })).status).toBe(200);
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "token_revoked" });
  });

  it("for every token issued before revoke-tokens, in its second too, while a token issued after it is active", async () => {
    const [caller, client, operator] = [await registerIntrospector(), await registerClient(), await adminToken()];
    // The clock stands still mid-second: the token and the cut-off share one second, which iat cannot tell apart.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Math.floor(Date.now() / 1000) * 1000 + 500);
    const before = await accessTokenFor(client);
    const response = await admin(`/clients/${client.clientId}/revoke-tokens`, operator);
    expect(response.status).toBe(200);
    const { tokens_revoked_before: cutoff } = (await response.json()) as { tokens_revoked_before: number };
    expect(cutoff).toBe(decodeJwt(before).iat! + 1);
    expect(await inspect(before, caller)).toEqual({ body: INACTIVE, state: "issued_before_cutoff" });
    vi.setSystemTime(cutoff * 1000);
    const after = await accessTokenFor(client);
    expect((await inspect(after, caller)).body.active).toBe(true);
  });

  it("for a token of this server naming another issuer", async () => {
    const caller = await registerIntrospector();
    const token = await tokenSignedByService({ ...ownClaims("someone"), iss: "https://other.example.test" });
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "token_not_ours" });
  });

  it("for the tokens of a client once it is disabled, from the next call, whatever KV still serves", async () => {
    const [caller, client] = [await registerIntrospector(), await registerClient()];
    const token = await accessTokenFor(client);
    await changeClient(client.clientId, { kind: "status", status: "disabled" });
    await simulateStaleKv(client);
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "client_disabled" });
  });

  it("for a token obtained with a key since retired (an inline key leaves the record), the other key's still active", async () => {
    const [first, second] = [await clientKey("ES256", 31), await clientKey("ES256", 32)];
    const caller = await registerIntrospector();
    const client = await registerClient({ keys: [first.publicJwk, second.publicJwk] });
    const retiredToken = await accessTokenFor({ ...client, key: first });
    const otherToken = await accessTokenFor({ ...client, key: second });
    await changeClient(client.clientId, { kind: "retire_key", kid: first.kid });
    expect(await inspect(retiredToken, caller)).toEqual({ body: INACTIVE, state: "key_removed" });
    expect((await inspect(otherToken, caller)).body.active).toBe(true);
  });

  it("for a token obtained with a key listed as retired (how a jwks_uri client's key is retired)", async () => {
    const caller = await registerIntrospector();
    const client = await registerClient();
    const token = await accessTokenFor(client);
    await changeClient(client.clientId, { kind: "patch", patch: { retired_kids: [client.key.kid] } });
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "key_retired" });
  });

  it("for the tokens of a removed client, and still after the same client_id is registered again", async () => {
    const [caller, client] = [await registerIntrospector(), await registerClient()];
    const token = await accessTokenFor(client);
    await changeClient(client.clientId, { kind: "delete" });
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "client_unknown" });
    const again = { kind: "create" as const, record: client.record as unknown as Record<string, unknown> };
    await changeClient(client.clientId, again);
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "issued_before_cutoff" });
  });

  it("for an expired token", async () => {
    const caller = await registerIntrospector();
    const now = Math.floor(Date.now() / 1000);
    const token = await tokenSignedByService({ ...ownClaims("someone"), iat: now - 120, exp: now - 1 });
    expect(await inspect(token, caller)).toEqual({ body: INACTIVE, state: "token_expired" });
  });

  it("for a token this server did not sign, and for one whose signing key it no longer publishes", async () => {
    const caller = await registerIntrospector();
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const forged = await new SignJWT(ownClaims("someone"))
      .setProtectedHeader({ alg: "ES256", kid: JSON.parse(env.SIGNING_KEYS!).keys[0].kid, typ: "at+jwt" })
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    expect(await inspect(forged, caller)).toEqual({ body: INACTIVE, state: "token_not_ours" });
    // The same server after a rotation that dropped the old key: its tokens verify no more.
    const token = await accessTokenFor(await registerClient());
    const rotated = {
      keys: [{ ...(await exportJWK(privateKey)), ...(await exportJWK(publicKey)), kid: "next", alg: "ES256" }],
    };
    const vars = { SIGNING_KEYS: JSON.stringify(rotated) };
    expect(await inspect(token, caller, vars)).toEqual({ body: INACTIVE, state: "token_not_ours" });
  });

  it("for a token of ours whose typ is not at+jwt, and for a value that is not a token at all", async () => {
    const caller = await registerIntrospector();
    const idToken = await tokenSignedByService(ownClaims("someone"), "JWT");
    expect(await inspect(idToken, caller)).toEqual({ body: INACTIVE, state: "token_not_ours" });
    expect(await inspect("not-a-token", caller)).toEqual({ body: INACTIVE, state: "token_malformed" });
    expect(await inspect(`${"a".repeat(9000)}.b.c`, caller)).toEqual({ body: INACTIVE, state: "token_malformed" });
  });
});

/** The claims issue-token.ts sets, for a token signed with the service's key by the test. */
function ownClaims(clientId: string) {
  return { iss: ISSUER, sub: clientId, client_id: clientId, client_key: "k", aud: "https://api.example.test" };
}

describe("introspection refuses", () => {
  it("a caller without client authentication, with 401 invalid_client", async () => {
    const token = await accessTokenFor(await registerClient());
    expect(await refusalOf(await introspect(token), "introspection_request")).toEqual(
      invalidClient("client_assertion_missing"),
    );
  });

  it("a caller whose assertion fails (a replayed one), exactly as the token endpoint would", async () => {
    const caller = await registerIntrospector();
    const token = await accessTokenFor(await registerClient());
    const assertion = await buildAssertion(caller);
    expect((await introspect(token, { assertion })).status).toBe(200);
    expect(await refusalOf(await introspect(token, { assertion }), "introspection_request")).toEqual(
      invalidClient("replayed"),
    );
  });

  it("an assertion already spent at the token endpoint: one jti, one use, whichever endpoint", async () => {
    const caller = await registerIntrospector();
    const assertion = await buildAssertion(caller);
    const token = (await expectIssued(await postToken(tokenForm(assertion)))).access_token as string;
    expect(await refusalOf(await introspect(token, { assertion }), "introspection_request")).toEqual(
      invalidClient("replayed"),
    );
  });

  it("a client its record does not allow, with 403, spending nothing: the same assertion works once allowed", async () => {
    const caller = await registerClient();
    const token = await accessTokenFor(await registerClient());
    const assertion = await buildAssertion(caller);
    expect(await refusalOf(await introspect(token, { assertion }), "introspection_request")).toEqual({
      status: 403,
      error: "unauthorized_client",
      reason: "introspection_not_allowed",
    });
    await changeClient(caller.clientId, { kind: "patch", patch: { introspection: true } });
    expect((await introspect(token, { assertion })).status).toBe(200);
  });

  it("a client whose permission its authority withdrew, while KV still serves the record that allowed it", async () => {
    const caller = await registerIntrospector();
    const token = await accessTokenFor(await registerClient());
    await changeClient(caller.clientId, { kind: "patch", patch: { introspection: false } });
    await simulateStaleKv(caller);
    expect(await refusalOf(await introspect(token, { as: caller }), "introspection_request")).toEqual({
      status: 403,
      error: "unauthorized_client",
      reason: "introspection_not_allowed",
    });
  });

  it("a request without the token parameter, with invalid_request", async () => {
    const caller = await registerIntrospector();
    expect(await refusalOf(await introspect(undefined, { as: caller }), "introspection_request")).toEqual({
      status: 400,
      error: "invalid_request",
      reason: "token_parameter_missing",
    });
  });

  it("a GET, with 405", async () => {
    const response = await get("/introspect");
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
  });
});

describe("introspection state in the client's authority", () => {
  it("survives a new instance on the same storage (eviction, hibernation, a deploy): revocations and the cut-off", async () => {
    const client = await registerClient();
    const [revoked, cut] = [await accessTokenFor(client), await accessTokenFor(client)];
    expect((await revoke(revoked, { as: client })).status).toBe(200);
    const stub = env.CLIENT_AUTHORITY.getByName(client.clientId);
    const query = (token: string) => {
      const claims = decodeJwt(token) as Record<string, unknown>;
      return {
        clientId: client.clientId,
        jti: claims.jti as string,
        issuedAt: claims.iat as number,
        keyId: claims.client_key as string,
      };
    };
    const fresh = () =>
      runInDurableObject(stub, async (_: ClientAuthority, state) => {
        const rebuilt = new ClientAuthority(state, env);
        return [await rebuilt.tokenStatus(query(revoked)), await rebuilt.tokenStatus(query(cut))];
      });
    expect(await fresh()).toEqual([{ active: false, reason: "token_revoked" }, { active: true }]);
    await stub.revokeAllTokens(client.clientId);
    expect(await fresh()).toEqual([
      { active: false, reason: "issued_before_cutoff" },
      { active: false, reason: "issued_before_cutoff" },
    ]);
  });
});
