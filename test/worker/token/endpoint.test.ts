// Integration tests through the Worker's fetch handler, with real KV and Durable Object bindings: the happy path per
// algorithm, then each request, assertion, scope and resource rule as a named refusal. Every refusal is checked on the
// wire and by the reason code of its audit line, so a test fails when the request is refused for another reason.
import { env, exports } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it, vi } from "vitest";
import { LIMITS } from "../../../src/protocol/constants";
import {
  audited,
  buildAssertion,
  clientKey,
  expectIssued,
  ISSUER,
  invalidClient,
  JWT_BEARER,
  nowSeconds,
  postToken,
  refusalOf,
  registerClient,
  requestToken,
  type TestAlg,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";

const ALGORITHMS: TestAlg[] = ["ES256", "ES384", "ES512", "PS256", "PS384", "RS256", "RS512", "EdDSA", "Ed25519"];

describe("issues an access token", () => {
  for (const alg of ALGORITHMS) {
    it(`for a client signing with ${alg}`, async () => {
      const client = await registerClient({ alg });
      const response = await requestToken(client);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      const body = await expectIssued(response);
      expect(body).toMatchObject({ token_type: "Bearer", expires_in: 600, scope: "read write" });
      const claims = decodeJwt(body.access_token as string);
      expect(claims).toMatchObject({
        iss: ISSUER,
        sub: client.clientId,
        client_id: client.clientId,
        aud: "https://api.example.test",
        scope: "read write",
      });
      expect(claims.exp! - claims.iat!).toBe(600);
      expect(typeof claims.jti).toBe("string");
      expect(decodeProtectedHeader(body.access_token as string)).toMatchObject({ typ: "at+jwt", alg: "ES256" });
    });
  }

  it("when the client_id parameter matches the assertion", async () => {
    const client = await registerClient();
    await expectIssued(await requestToken(client, { client_id: client.clientId }));
  });

  it("when the assertion has no kid and the client has one fitting key", async () => {
    const client = await registerClient({ keys: [{ ...(await clientKey("ES256")).publicJwk, kid: undefined }] });
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { header: { kid: undefined } }))));
  });

  it("when the assertion's typ is client-authentication+jwt", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { header: { typ: "client-authentication+jwt" } });
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("when the assertion has no typ at all (RFC 10070: a missing typ is not refused)", async () => {
    const client = await registerClient();
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { header: { typ: undefined } }))));
  });

  it("with the client's token_ttl when shorter than the server's", async () => {
    const client = await registerClient({ record: { token_ttl: 120 } });
    const body = await expectIssued(await requestToken(client));
    expect(body.expires_in).toBe(120);
    const claims = decodeJwt(body.access_token as string);
    expect(claims.exp! - claims.iat!).toBe(120);
  });

  it("never longer than ACCESS_TOKEN_TTL even when the record asks for more", async () => {
    const client = await registerClient({ record: { token_ttl: 86_400 } });
    const body = await expectIssued(await requestToken(client));
    expect(body.expires_in).toBe(600);
    const claims = decodeJwt(body.access_token as string);
    expect(claims.exp! - claims.iat!).toBe(600);
  });

  it("trying the registered key whose kid the header names, among several", async () => {
    const other = await clientKey("ES256", 1);
    const mine = await clientKey("ES256", 2);
    const client = await registerClient({ keys: [other.publicJwk, mine.publicJwk] });
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: mine }))));
  });
});

describe("scope and resource", () => {
  it("grants exactly the requested scopes when allowed", async () => {
    const client = await registerClient();
    const body = await expectIssued(await requestToken(client, { scope: "read" }));
    expect(body.scope).toBe("read");
    expect(decodeJwt(body.access_token as string).scope).toBe("read");
  });

  it("grants default_scopes when none are requested", async () => {
    const client = await registerClient({ record: { default_scopes: ["read"] } });
    expect((await expectIssued(await requestToken(client))).scope).toBe("read");
  });

  it("omits scope when nothing is granted", async () => {
    const client = await registerClient({ record: { scopes: [] } });
    const body = await expectIssued(await requestToken(client));
    expect(body).not.toHaveProperty("scope");
    expect(decodeJwt(body.access_token as string)).not.toHaveProperty("scope");
  });

  it("rejects with invalid_scope when a scope is not allowed, without spending the jti", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    expect(await refusalOf(await postToken(tokenForm(assertion, { scope: "read admin" })))).toEqual({
      status: 400,
      error: "invalid_scope",
      reason: "scope_not_allowed",
    });
    await expectIssued(await postToken(tokenForm(assertion, { scope: "read" })));
  });

  it("rejects with invalid_scope when the scope has a double space", async () => {
    const client = await registerClient();
    expect(await refusalOf(await requestToken(client, { scope: "read  write" }))).toEqual({
      status: 400,
      error: "invalid_scope",
      reason: "scope_malformed",
    });
  });

  it("rejects with invalid_scope a scope parameter longer than the limit, before looking at its tokens", async () => {
    const client = await registerClient();
    const scope = Array.from({ length: 206 }, () => "read").join(" ");
    expect(scope.length).toBeGreaterThan(LIMITS.maxScopeLength);
    expect(await refusalOf(await requestToken(client, { scope }))).toEqual({
      status: 400,
      error: "invalid_scope",
      reason: "scope_malformed",
    });
  });

  it("sets aud to the requested resource when the client may use it", async () => {
    const client = await registerClient({
      record: { audiences: ["https://a.example.test", "https://b.example.test"] },
    });
    const body = await expectIssued(await requestToken(client, { resource: "https://b.example.test" }));
    expect(decodeJwt(body.access_token as string).aud).toBe("https://b.example.test");
  });

  it("sets aud to every requested resource when several are sent", async () => {
    const client = await registerClient({
      record: { audiences: ["https://a.example.test", "https://b.example.test"] },
    });
    const response = await requestToken(client, { resource: ["https://a.example.test", "https://b.example.test"] });
    const body = await expectIssued(response);
    expect(decodeJwt(body.access_token as string).aud).toEqual(["https://a.example.test", "https://b.example.test"]);
  });

  it("rejects with invalid_target when the resource is not allowed for the client", async () => {
    const client = await registerClient();
    expect(await refusalOf(await requestToken(client, { resource: "https://other.example.test" }))).toEqual({
      status: 400,
      error: "invalid_target",
      reason: "resource_not_allowed",
    });
  });

  it("rejects with invalid_target when the resource has a fragment", async () => {
    const client = await registerClient({ record: { audiences: ["https://api.example.test"] } });
    expect(await refusalOf(await requestToken(client, { resource: "https://api.example.test#frag" }))).toEqual({
      status: 400,
      error: "invalid_target",
      reason: "resource_invalid",
    });
  });

  it("falls back to DEFAULT_AUDIENCE (the issuer) when the client has no audiences", async () => {
    const client = await registerClient({ record: { audiences: [] } });
    const body = await expectIssued(await requestToken(client));
    expect(decodeJwt(body.access_token as string).aud).toBe(ISSUER);
  });
});

describe("refuses a malformed request", () => {
  const invalidRequest = (reason: string) => ({ status: 400, error: "invalid_request", reason });

  it("rejects a valid form sent as application/json with unsupported_media_type", async () => {
    const client = await registerClient();
    const form = new URLSearchParams(tokenForm(await buildAssertion(client))).toString();
    const response = await postToken({}, { headers: { "Content-Type": "application/json" }, body: form });
    expect(await refusalOf(response)).toEqual(invalidRequest("unsupported_media_type"));
  });

  it("rejects a valid form declared in a charset other than UTF-8 with unsupported_media_type", async () => {
    const client = await registerClient();
    const form = new URLSearchParams(tokenForm(await buildAssertion(client))).toString();
    const headers = { "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1" };
    expect(await refusalOf(await postToken({}, { headers, body: form }))).toEqual(
      invalidRequest("unsupported_media_type"),
    );
  });

  it("rejects with 413 when the body is over the limit", async () => {
    const response = await postToken({}, { body: `a=${"x".repeat(20_000)}` });
    expect(await refusalOf(response)).toEqual({ status: 413, error: "invalid_request", reason: "body_too_large" });
  });

  it("rejects with 413 when a streamed body without Content-Length grows over the limit", async () => {
    const chunk = new TextEncoder().encode(`a=${"x".repeat(4096)}`);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await postToken({}, { body: stream });
    expect(await refusalOf(response)).toEqual({ status: 413, error: "invalid_request", reason: "body_too_large" });
  });

  it("rejects with invalid_request when grant_type is missing", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { grant_type: undefined });
    expect(await refusalOf(await postToken(form))).toEqual(invalidRequest("grant_type_missing"));
  });

  it("rejects with unsupported_grant_type for the password grant", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { grant_type: "password" });
    expect(await refusalOf(await postToken(form))).toEqual({
      status: 400,
      error: "unsupported_grant_type",
      reason: "grant_type_unsupported",
    });
  });

  it("rejects with invalid_request when a parameter is repeated", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { scope: ["read", "read"] });
    expect(await refusalOf(await postToken(form))).toEqual(invalidRequest("duplicate_parameter"));
  });

  it("rejects with invalid_request when the assertion is repeated", async () => {
    const client = await registerClient();
    const a = await buildAssertion(client);
    expect(await refusalOf(await postToken(tokenForm(a, { client_assertion: [a, a] })))).toEqual(
      invalidRequest("duplicate_parameter"),
    );
  });

  it("rejects with invalid_request when a client_secret is sent with the assertion", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { client_secret: "s3cret" });
    expect(await refusalOf(await postToken(form))).toEqual(invalidRequest("multiple_auth_methods"));
  });

  it("rejects with invalid_request when an Authorization header comes with the assertion", async () => {
    const client = await registerClient();
    const response = await postToken(tokenForm(await buildAssertion(client)), {
      headers: { Authorization: `Basic ${btoa(`${client.clientId}:x`)}` },
    });
    expect(await refusalOf(response)).toEqual(invalidRequest("multiple_auth_methods"));
  });

  it("rejects a client_secret alone with 401 invalid_client: an unsupported authentication method", async () => {
    const response = await postToken({ grant_type: "client_credentials", client_id: "c", client_secret: "s3cret" });
    expect(await refusalOf(response)).toEqual(invalidClient("client_secret_not_accepted"));
    expect(response.headers.get("WWW-Authenticate")).toBeNull();
  });

  it.each([
    [`Basic ${btoa("c:s3cret")}`, 'Basic realm="token"'],
    ["Bearer abc.def", 'Bearer realm="token"'],
    ["  basic   eDp5", 'basic realm="token"'],
    ['Ba"sic x', 'Basic realm="token"'],
    ["x".repeat(64), 'Basic realm="token"'],
  ])(
    "rejects HTTP authentication alone (%s) with 401 invalid_client and a challenge for its scheme",
    async (authorization, challenge) => {
      const response = await postToken(
        { grant_type: "client_credentials" },
        { headers: { Authorization: authorization } },
      );
      expect(await refusalOf(response)).toEqual(invalidClient("client_secret_not_accepted"));
      expect(response.headers.get("WWW-Authenticate")).toBe(challenge);
    },
  );

  it("rejects with invalid_request when the body has broken percent-encoding", async () => {
    const client = await registerClient();
    const body = `${new URLSearchParams(tokenForm(await buildAssertion(client))).toString()}&x=%zz`;
    expect(await refusalOf(await postToken({}, { body }))).toEqual(invalidRequest("body_malformed"));
  });

  it("rejects with 405 and an Allow header on GET /token", async () => {
    const response = await audited(() => exports.default.fetch(TOKEN_ENDPOINT));
    expect(response.headers.get("Allow")).toBe("POST");
    expect(await refusalOf(response)).toEqual({ status: 405, error: "invalid_request", reason: "method_not_allowed" });
  });

  it("answers an unknown path with a 404 JSON error (no audit line: only /token is audited)", async () => {
    const response = await exports.default.fetch(`${ISSUER}/authorize`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "invalid_request", error_description: "No such endpoint" });
  });
});

describe("refuses client authentication with 401 invalid_client", () => {
  it("rejects when the client_assertion is missing", async () => {
    const response = await postToken({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER });
    expect(await refusalOf(response)).toEqual(invalidClient("client_assertion_missing"));
  });

  it("rejects when client_assertion_type is not jwt-bearer", async () => {
    const client = await registerClient();
    const response = await postToken(tokenForm(await buildAssertion(client), { client_assertion_type: "urn:x" }));
    expect(await refusalOf(response)).toEqual(invalidClient("client_assertion_type_unsupported"));
  });

  it("rejects when the client is not registered", async () => {
    const client = await registerClient();
    await env.CLIENTS.delete(`client:${client.clientId}`);
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_unknown"));
  });

  it("rejects when the client is disabled", async () => {
    const client = await registerClient({ record: { status: "disabled" } });
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_disabled"));
  });

  it("refuses a disabled client from its record, before any signature check or call to its authority", async () => {
    const client = await registerClient({ record: { status: "disabled" } });
    const stranger = await clientKey("ES256", 9);
    const forged = await buildAssertion(client, { signWith: { ...stranger, kid: client.key.kid } });
    const authority = vi.spyOn(env.CLIENT_AUTHORITY, "getByName");
    expect(await refusalOf(await postToken(tokenForm(forged)))).toEqual(invalidClient("client_disabled"));
    expect(authority).not.toHaveBeenCalled();
  });

  it("rejects when the client record is broken JSON", async () => {
    const client = await registerClient();
    await env.CLIENTS.put(`client:${client.clientId}`, "{not json");
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_record_invalid"));
  });

  it("rejects when the client record fails validation", async () => {
    const client = await registerClient({ record: { status: "paused" as "active" }, bootstrap: true });
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_record_invalid"));
  });

  it("rejects when the stored record is over the size limit, however valid its fields", async () => {
    const client = await registerClient();
    const padded = { ...client.record, future_field: "x".repeat(LIMITS.maxClientRecordBytes) };
    await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify(padded));
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("client_record_invalid"));
  });

  it("rejects when the record stored under the client's key names another client", async () => {
    const victim = await registerClient();
    const attacker = await registerClient();
    await env.CLIENTS.put(`client:${victim.clientId}`, JSON.stringify({ ...attacker.record }));
    expect(await refusalOf(await requestToken({ ...victim, key: attacker.key }))).toEqual(
      invalidClient("client_record_invalid"),
    );
  });

  it("rejects when the client_id parameter names another client", async () => {
    const client = await registerClient();
    expect(await refusalOf(await requestToken(client, { client_id: "someone-else" }))).toEqual(
      invalidClient("client_id_mismatch"),
    );
  });

  it("rejects when the signature was made by another key", async () => {
    const client = await registerClient();
    const stranger = await clientKey("ES256", 9);
    const assertion = await buildAssertion(client, { signWith: { ...stranger, kid: client.key.kid } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("signature_invalid"));
  });

  it("rejects when the header names a kid the client does not have", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { header: { kid: "unknown" } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("no_matching_key"));
  });

  it("rejects when the header alg does not fit the registered key's curve (ES384 against a P-256 key)", async () => {
    const p384 = await clientKey("ES384");
    const client = await registerClient({ alg: "ES256" });
    const assertion = await buildAssertion(client, { signWith: { ...p384, kid: client.key.kid } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("no_matching_key"));
  });

  it("rejects when the registered key pins another alg (key registered for PS256, assertion RS256)", async () => {
    const rsa = await clientKey("RS256");
    const client = await registerClient({ alg: "RS256", keys: [{ ...rsa.publicJwk, alg: "PS256" }] });
    expect(await refusalOf(await requestToken(client))).toEqual(invalidClient("no_matching_key"));
  });

  it("rejects when the assertion is signed with alg none", async () => {
    const client = await registerClient();
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const now = nowSeconds();
    const claims = { iss: client.clientId, sub: client.clientId, aud: ISSUER, jti: "n", exp: now + 60 };
    const response = await postToken(tokenForm(`${b64({ alg: "none" })}.${b64(claims)}.`));
    expect(await refusalOf(response)).toEqual(invalidClient("alg_not_allowed"));
  });

  it("rejects when the audience is the token endpoint URL", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: TOKEN_ENDPOINT } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("aud_invalid"));
  });

  it("rejects when the audience is an array holding the issuer and another server", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: [ISSUER, "https://rs.example"] } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("aud_invalid"));
  });

  it("rejects when the audience is taken from X-Forwarded-Host (always the configured issuer)", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: "https://attacker.example" } });
    const response = await audited(() =>
      exports.default.fetch(TOKEN_ENDPOINT, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Host": "attacker.example" },
        body: new URLSearchParams(tokenForm(assertion)).toString(),
      }),
    );
    expect(await refusalOf(response)).toEqual(invalidClient("aud_invalid"));
  });

  it("rejects when the assertion has expired", async () => {
    const client = await registerClient();
    const now = nowSeconds();
    const assertion = await buildAssertion(client, { claims: { iat: now - 200, exp: now - 100 } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("expired"));
  });

  it("rejects when the assertion lives longer than the cap", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { exp: nowSeconds() + 3600 } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("lifetime_too_long"));
  });

  it("rejects when exp is missing", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { omit: ["exp"] });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("exp_missing"));
  });

  it("rejects when jti is missing", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { omit: ["jti"] });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("jti_missing"));
  });

  it("rejects when nbf is in the future", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { nbf: nowSeconds() + 120 } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("not_yet_valid"));
  });

  it("rejects when iat is in the future", async () => {
    const client = await registerClient();
    const now = nowSeconds();
    const assertion = await buildAssertion(client, { claims: { iat: now + 120, exp: now + 180 } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("iat_in_future"));
  });

  it("rejects when iss and sub differ", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { sub: "other" } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("iss_sub_mismatch"));
  });

  it("rejects when the typ marks another kind of JWT", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { header: { typ: "at+jwt" } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("typ_not_allowed"));
  });

  it("rejects when the header carries its own jwk, even a valid one for the signature", async () => {
    const client = await registerClient();
    const attacker = await clientKey("ES256", 7);
    const assertion = await buildAssertion(client, {
      signWith: attacker,
      header: { jwk: attacker.publicJwk, kid: undefined },
    });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("header_key_material"));
  });

  it("rejects when the assertion is not a compact JWS", async () => {
    expect(await refusalOf(await postToken(tokenForm("not-a-jwt")))).toEqual(invalidClient("assertion_malformed"));
  });
});
