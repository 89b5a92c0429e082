// Integration tests through the Worker's fetch handler, with real KV and Durable Object bindings:
// the happy path per algorithm, each request and assertion rule as a named refusal, scope and resource rules.
import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildAssertion,
  clientKey,
  errorOf,
  ISSUER,
  JWT_BEARER,
  nowSeconds,
  postToken,
  registerClient,
  requestToken,
  type TestAlg,
  tokenForm,
} from "../support";

afterEach(() => reset());

describe("issues an access token", () => {
  for (const alg of ["ES256", "ES384", "ES512", "PS256", "PS384", "RS256", "RS512", "EdDSA", "Ed25519"] as TestAlg[]) {
    it(`for a client signing with ${alg}`, async () => {
      const client = await registerClient({ alg });
      const response = await requestToken(client);
      expect(response.status).toBe(200);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      const body = (await response.json()) as Record<string, unknown>;
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
    expect((await requestToken(client, { client_id: client.clientId })).status).toBe(200);
  });

  it("when the assertion has no kid and the client has one fitting key", async () => {
    const client = await registerClient({ keys: [{ ...(await clientKey("ES256")).publicJwk, kid: undefined }] });
    const assertion = await buildAssertion(client, { header: { kid: undefined } });
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
  });

  it("when the assertion's typ is client-authentication+jwt", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { header: { typ: "client-authentication+jwt" } });
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
  });

  it("with the client's token_ttl when shorter than the server's", async () => {
    const client = await registerClient({ record: { token_ttl: 120 } });
    const body = (await (await requestToken(client)).json()) as { expires_in: number };
    expect(body.expires_in).toBe(120);
  });

  it("never longer than ACCESS_TOKEN_TTL even when the record asks for more", async () => {
    const client = await registerClient({ record: { token_ttl: 86_400 } });
    const body = (await (await requestToken(client)).json()) as { expires_in: number };
    expect(body.expires_in).toBe(600);
  });

  it("trying the registered key whose kid the header names, among several", async () => {
    const other = await clientKey("ES256", 1);
    const mine = await clientKey("ES256", 2);
    const client = await registerClient({ keys: [other.publicJwk, mine.publicJwk] });
    const assertion = await buildAssertion(client, { signWith: mine });
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
  });
});

describe("scope and resource", () => {
  it("grants exactly the requested scopes when allowed", async () => {
    const client = await registerClient();
    const body = (await (await requestToken(client, { scope: "read" })).json()) as {
      access_token: string;
      scope: string;
    };
    expect(body.scope).toBe("read");
    expect(decodeJwt(body.access_token).scope).toBe("read");
  });

  it("grants default_scopes when none are requested", async () => {
    const client = await registerClient({ record: { default_scopes: ["read"] } });
    const body = (await (await requestToken(client)).json()) as { scope: string };
    expect(body.scope).toBe("read");
  });

  it("omits scope when nothing is granted", async () => {
    const client = await registerClient({ record: { scopes: [] } });
    const body = (await (await requestToken(client)).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("scope");
    expect(decodeJwt(body.access_token as string)).not.toHaveProperty("scope");
  });

  it("rejects with invalid_scope when a scope is not allowed, without spending the jti", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    expect(await errorOf(await postToken(tokenForm(assertion, { scope: "read admin" })))).toMatchObject({
      status: 400,
      error: "invalid_scope",
    });
    expect((await postToken(tokenForm(assertion, { scope: "read" }))).status).toBe(200);
  });

  it("rejects with invalid_scope when the scope has a double space", async () => {
    const client = await registerClient();
    expect((await errorOf(await requestToken(client, { scope: "read  write" }))).error).toBe("invalid_scope");
  });

  it("sets aud to the requested resource when the client may use it", async () => {
    const client = await registerClient({
      record: { audiences: ["https://a.example.test", "https://b.example.test"] },
    });
    const body = (await (await requestToken(client, { resource: "https://b.example.test" })).json()) as {
      access_token: string;
    };
    expect(decodeJwt(body.access_token).aud).toBe("https://b.example.test");
  });

  it("sets aud to every requested resource when several are sent", async () => {
    const client = await registerClient({
      record: { audiences: ["https://a.example.test", "https://b.example.test"] },
    });
    const response = await requestToken(client, { resource: ["https://a.example.test", "https://b.example.test"] });
    const body = (await response.json()) as { access_token: string };
    expect(decodeJwt(body.access_token).aud).toEqual(["https://a.example.test", "https://b.example.test"]);
  });

  it("rejects with invalid_target when the resource is not allowed for the client", async () => {
    const client = await registerClient();
    expect(await errorOf(await requestToken(client, { resource: "https://other.example.test" }))).toMatchObject({
      status: 400,
      error: "invalid_target",
    });
  });

  it("rejects with invalid_target when the resource has a fragment", async () => {
    const client = await registerClient({ record: { audiences: ["https://api.example.test"] } });
    expect((await errorOf(await requestToken(client, { resource: "https://api.example.test#frag" }))).error).toBe(
      "invalid_target",
    );
  });

  it("falls back to DEFAULT_AUDIENCE (the issuer) when the client has no audiences", async () => {
    const client = await registerClient({ record: { audiences: [] } });
    const body = (await (await requestToken(client)).json()) as { access_token: string };
    expect(decodeJwt(body.access_token).aud).toBe(ISSUER);
  });
});

describe("refuses a malformed request", () => {
  it("rejects with 400 invalid_request when the body is JSON", async () => {
    const client = await registerClient();
    const response = await postToken(
      {},
      {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(tokenForm(await buildAssertion(client))),
      },
    );
    expect(await errorOf(response)).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects with 413 when the body is over the limit", async () => {
    const response = await postToken({}, { body: `a=${"x".repeat(20_000)}` });
    expect(await errorOf(response)).toMatchObject({ status: 413, error: "invalid_request" });
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
    expect(response.status).toBe(413);
  });

  it("rejects with invalid_request when grant_type is missing", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { grant_type: undefined });
    expect(await errorOf(await postToken(form))).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects with unsupported_grant_type for the password grant", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { grant_type: "password" });
    expect(await errorOf(await postToken(form))).toMatchObject({ status: 400, error: "unsupported_grant_type" });
  });

  it("rejects with invalid_request when a parameter is repeated", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { scope: ["read", "write"] });
    expect(await errorOf(await postToken(form))).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects with invalid_request when the assertion is repeated", async () => {
    const client = await registerClient();
    const a = await buildAssertion(client);
    const form = tokenForm(a, { client_assertion: [a, a] });
    expect(await errorOf(await postToken(form))).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects with invalid_request when a client_secret is sent with the assertion", async () => {
    const client = await registerClient();
    const form = tokenForm(await buildAssertion(client), { client_secret: "s3cret" });
    expect(await errorOf(await postToken(form))).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects with invalid_request when an Authorization header comes with the assertion", async () => {
    const client = await registerClient();
    const response = await postToken(tokenForm(await buildAssertion(client)), {
      headers: { Authorization: `Basic ${btoa(`${client.clientId}:x`)}` },
    });
    expect(await errorOf(response)).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("rejects a client_secret alone with 401 invalid_client: an unsupported authentication method", async () => {
    const response = await postToken({ grant_type: "client_credentials", client_id: "c", client_secret: "s3cret" });
    expect(await errorOf(response)).toMatchObject({ status: 401, error: "invalid_client" });
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
      expect(await errorOf(response)).toMatchObject({ status: 401, error: "invalid_client" });
      expect(response.headers.get("WWW-Authenticate")).toBe(challenge);
    },
  );

  it("rejects with invalid_request when the body has broken percent-encoding", async () => {
    expect(await errorOf(await postToken({}, { body: "grant_type=client_credentials&x=%zz" }))).toMatchObject({
      status: 400,
      error: "invalid_request",
    });
  });

  it("rejects with 405 and an Allow header on GET /token", async () => {
    const response = await (await import("cloudflare:workers")).exports.default.fetch(`${ISSUER}/token`);
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect((await response.json()) as object).toMatchObject({ error: "invalid_request" });
  });

  it("answers an unknown path with a 404 JSON error", async () => {
    const response = await (await import("cloudflare:workers")).exports.default.fetch(`${ISSUER}/authorize`);
    expect(await errorOf(response)).toMatchObject({ status: 404, error: "invalid_request" });
  });
});

describe("refuses client authentication with 401 invalid_client", () => {
  async function refusal(response: Response) {
    const error = await errorOf(response);
    expect(error).toEqual({ status: 401, error: "invalid_client", description: "Client authentication failed" });
  }

  it("rejects when the client_assertion is missing", async () => {
    await refusal(await postToken({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER }));
  });

  it("rejects when client_assertion_type is not jwt-bearer", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client), { client_assertion_type: "urn:x" })));
  });

  it("rejects when the client is not registered", async () => {
    const client = await registerClient();
    await env.CLIENTS.delete(`client:${client.clientId}`);
    await refusal(await requestToken(client));
  });

  it("rejects when the client is disabled", async () => {
    const client = await registerClient({ record: { status: "disabled" } });
    await refusal(await requestToken(client));
  });

  it("rejects when the client record is broken JSON", async () => {
    const client = await registerClient();
    await env.CLIENTS.put(`client:${client.clientId}`, "{not json");
    await refusal(await requestToken(client));
  });

  it("rejects when the client record fails validation", async () => {
    const client = await registerClient({ record: { status: "paused" as "active" } });
    await refusal(await requestToken(client));
  });

  it("rejects when the record stored under the client's key names another client", async () => {
    const victim = await registerClient();
    const attacker = await registerClient();
    await env.CLIENTS.put(`client:${victim.clientId}`, JSON.stringify({ ...attacker.record }));
    await refusal(await requestToken({ ...victim, key: attacker.key }));
  });

  it("rejects when the client_id parameter names another client", async () => {
    const client = await registerClient();
    await refusal(await requestToken(client, { client_id: "someone-else" }));
  });

  it("rejects when the signature was made by another key", async () => {
    const client = await registerClient();
    const stranger = await clientKey("ES256", 9);
    await refusal(
      await postToken(tokenForm(await buildAssertion(client, { signWith: { ...stranger, kid: client.key.kid } }))),
    );
  });

  it("rejects when the header names a kid the client does not have", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { header: { kid: "unknown" } }))));
  });

  it("rejects when the header alg does not fit the registered key (ES384 against a P-256 key)", async () => {
    const p384 = await clientKey("ES384");
    const client = await registerClient({ alg: "ES256" });
    await refusal(
      await postToken(tokenForm(await buildAssertion(client, { signWith: { ...p384, kid: client.key.kid } }))),
    );
  });

  it("rejects when the registered key pins another alg (key registered for PS256, assertion RS256)", async () => {
    const rsa = await clientKey("RS256");
    const client = await registerClient({ alg: "RS256", keys: [{ ...rsa.publicJwk, alg: "PS256" }] });
    await refusal(await requestToken(client));
  });

  it("rejects when the assertion is signed with alg none", async () => {
    const client = await registerClient();
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const now = nowSeconds();
    const unsigned = `${b64({ alg: "none" })}.${b64({ iss: client.clientId, sub: client.clientId, aud: ISSUER, jti: "n", exp: now + 60 })}.`;
    await refusal(await postToken(tokenForm(unsigned)));
  });

  it("rejects when the audience is the token endpoint URL", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { claims: { aud: `${ISSUER}/token` } }))));
  });

  it("rejects when the audience is an array holding the issuer", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { claims: { aud: [ISSUER] } }))));
  });

  it("rejects when the audience is taken from the Host header (always the configured issuer)", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: "https://attacker.example" } });
    const response = await (await import("cloudflare:workers")).exports.default.fetch(
      "https://attacker.example/token",
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Host": "attacker.example" },
        body: new URLSearchParams(tokenForm(assertion)).toString(),
      },
    );
    await refusal(response);
  });

  it("rejects when the assertion has expired", async () => {
    const client = await registerClient();
    const now = nowSeconds();
    await refusal(
      await postToken(tokenForm(await buildAssertion(client, { claims: { iat: now - 200, exp: now - 100 } }))),
    );
  });

  it("rejects when the assertion lives longer than the cap", async () => {
    const client = await registerClient();
    const now = nowSeconds();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { claims: { exp: now + 3600 } }))));
  });

  it("rejects when exp is missing", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { omit: ["exp"] }))));
  });

  it("rejects when jti is missing", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { omit: ["jti"] }))));
  });

  it("rejects when nbf is in the future", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { claims: { nbf: nowSeconds() + 120 } }))));
  });

  it("rejects when iss and sub differ", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { claims: { sub: "other" } }))));
  });

  it("rejects when the typ marks another kind of JWT", async () => {
    const client = await registerClient();
    await refusal(await postToken(tokenForm(await buildAssertion(client, { header: { typ: "at+jwt" } }))));
  });

  it("rejects when the header carries its own jwk, even a valid one for the signature", async () => {
    const client = await registerClient();
    const attacker = await clientKey("ES256", 7);
    const assertion = await buildAssertion(client, {
      signWith: attacker,
      header: { jwk: attacker.publicJwk, kid: undefined },
    });
    await refusal(await postToken(tokenForm(assertion)));
  });

  it("rejects when the assertion is garbage", async () => {
    await refusal(await postToken(tokenForm("not-a-jwt")));
  });
});
