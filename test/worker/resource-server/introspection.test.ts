// Online mode of the resource-server verifier (src/resource-server/introspection.ts) against a stubbed introspection
// endpoint: the request it sends (POST, the form, a private_key_jwt assertion that verifies, a new jti every call),
// each answer accepted or refused by its reason code, the per-token cache and its bounds, the timeout, its place after
// every offline check and before the proof's jti is spent, and the options. No network: the fetch is injected (a stub,
// or the Worker's own fetch handler for the end-to-end case), and the clock is the verifier's `now`, moved by hand.
import { exports } from "cloudflare:workers";
import { decodeJwt, exportJWK, generateKeyPair, type JSONWebKeySet, jwtVerify, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { accessTokenHash } from "../../../src/dpop/signature";
import { JWT_BEARER_ASSERTION_TYPE } from "../../../src/protocol/constants";
import {
  createVerifier,
  type IntrospectionOptions,
  responseFor,
  TokenServiceError,
  type Verifier,
  type VerifierOptions,
} from "../../../src/resource-server";
import { RESOURCE_SERVER } from "../../../src/resource-server/limits";
import { buildProof, type ProofKey, proofKey } from "../dpop/proofs";
import { accessTokenFor, registerIntrospector, revoke } from "../issued-tokens/support";
import { get, registerClient, type TestClient } from "../support";

const ISSUER = "https://as.example.test";
const ENDPOINT = `${ISSUER}/introspect`;
const AUDIENCE = "https://api.example.test";
const RESOURCE = `${AUDIENCE}/hello`;
/** The resource server's own client at the issuer, and the kid of its registered key. */
const RS_CLIENT = "resource-server-1";
const RS_KID = "rs-key-1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The issuer's signing key (access tokens) and the resource server's client key (assertions), made once. */
const keys = (async () => {
  const issuer = await generateKeyPair("ES256", { extractable: true });
  const issuerJwk = { ...(await exportJWK(issuer.publicKey)), kid: "issuer-key-1", alg: "ES256", use: "sig" };
  const client = await generateKeyPair("ES256", { extractable: true });
  return {
    issuerKey: issuer.privateKey,
    jwks: { keys: [issuerJwk] },
    clientKey: client,
    clientJwk: { ...(await exportJWK(client.privateKey)), alg: "ES256", kid: RS_KID },
  };
})();

/** The verifier's clock, in milliseconds: starts now, moves only when a test moves it. */
function testClock() {
  const clock = { ms: Date.now(), now: () => clock.ms, advance: (seconds: number) => (clock.ms += seconds * 1000) };
  return clock;
}

interface IssuedToken {
  token: string;
  jti: string;
}

/** An access token of the issuer for AUDIENCE, issued at `nowMs`, with claims changed. */
async function accessToken(nowMs: number, claims: Record<string, unknown> = {}): Promise<IssuedToken> {
  const iat = Math.floor(nowMs / 1000);
  const jti = crypto.randomUUID();
  const body = { iss: ISSUER, sub: "client-1", client_id: "client-1", aud: AUDIENCE, scope: "read", jti, ...claims };
  const token = await new SignJWT({ iat, exp: iat + 600, ...body })
    .setProtectedHeader({ alg: "ES256", kid: "issuer-key-1", typ: "at+jwt" })
    .sign((await keys).issuerKey);
  return { token, jti: (claims.jti as string | undefined) ?? jti };
}

interface Call {
  url: string;
  method: string;
  contentType: string | null;
  form: URLSearchParams;
  signal: AbortSignal | undefined;
  redirect: string | undefined;
}

type Answer = (call: Call) => Response | Promise<Response>;

/** A stand-in for the issuer's introspection endpoint: records every request and answers with `answer`. */
function issuerStub(initial: Answer) {
  const stub = {
    calls: [] as Call[],
    answer: initial,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const call: Call = {
        url: request.url,
        method: request.method,
        contentType: request.headers.get("Content-Type"),
        form: new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer())),
        signal: init?.signal ?? undefined,
        redirect: init?.redirect,
      };
      stub.calls.push(call);
      return stub.answer(call);
    }) as typeof fetch,
  };
  return stub;
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    ...init,
  });

/** The issuer's answer about an active token: its claims, read back from the token in the form. */
const active: Answer = (call) => json({ active: true, ...decodeJwt(call.form.get("token")!), token_type: "Bearer" });
const inactive: Answer = () => json({ active: false });

type Stub = ReturnType<typeof issuerStub>;

async function onlineVerifier(
  stub: Stub,
  clock: { now: () => number },
  online: Partial<IntrospectionOptions> = {},
  options: Partial<VerifierOptions> = {},
): Promise<Verifier> {
  const { jwks, clientJwk } = await keys;
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks,
    now: clock.now,
    ...options,
    introspection: { clientId: RS_CLIENT, privateKey: clientJwk, fetch: stub.fetch, ...online },
  });
}

const bearer = (token: string) => new Request(RESOURCE, { headers: { Authorization: `Bearer ${token}` } });

interface Outcome {
  reason: string;
  status?: number;
  error?: string;
  challenge?: string | null;
  retryAfter?: string | null;
}

/** What verify decided: "accepted", or the refusal's reason with what responseFor answers. */
async function outcome(v: Verifier, req: Request, requiredScopes?: string[]): Promise<Outcome> {
  try {
    await v.verify(req, requiredScopes ? { requiredScopes } : undefined);
    return { reason: "accepted" };
  } catch (err) {
    if (!(err instanceof TokenServiceError)) return { reason: `threw ${(err as Error).name}` };
    const response = responseFor(err);
    return {
      reason: err.reason,
      status: response.status,
      error: ((await response.json()) as { error: string }).error,
      challenge: response.headers.get("WWW-Authenticate"),
      retryAfter: response.headers.get("Retry-After"),
    };
  }
}

const UNAVAILABLE: Outcome = {
  reason: "rs_introspection_unavailable",
  status: 503,
  error: "temporarily_unavailable",
  challenge: null,
  retryAfter: "1",
};

/** Checks one introspection request against the contract; returns its assertion's jti. */
async function expectIntrospectionRequest(call: Call, token: string, nowMs: number): Promise<string> {
  expect(call.method).toBe("POST");
  expect(call.url).toBe(ENDPOINT);
  expect(call.contentType).toBe("application/x-www-form-urlencoded");
  expect([...call.form.keys()].sort()).toEqual([
    "client_assertion",
    "client_assertion_type",
    "client_id",
    "token",
    "token_type_hint",
  ]);
  expect(call.form.get("token")).toBe(token);
  expect(call.form.get("token_type_hint")).toBe("access_token");
  expect(call.form.get("client_assertion_type")).toBe(JWT_BEARER_ASSERTION_TYPE);
  expect(call.form.get("client_id")).toBe(RS_CLIENT);
  const { clientKey } = await keys;
  const { payload, protectedHeader } = await jwtVerify(call.form.get("client_assertion")!, clientKey.publicKey, {
    algorithms: ["ES256"],
    currentDate: new Date(nowMs),
  });
  expect(protectedHeader).toEqual({ alg: "ES256", kid: RS_KID, typ: "JWT" });
  const now = Math.floor(nowMs / 1000);
  expect(payload).toEqual({
    iss: RS_CLIENT,
    sub: RS_CLIENT,
    aud: ISSUER,
    jti: expect.stringMatching(UUID),
    iat: now,
    exp: now + RESOURCE_SERVER.introspectionAssertionLifetimeSeconds,
  });
  return payload.jti as string;
}

describe("online mode: the introspection request", () => {
  it("accepts a token the issuer says is active, and marks it introspected", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const { token } = await accessToken(clock.ms);
    const result = await (await onlineVerifier(stub, clock)).verify(bearer(token), { requiredScopes: ["read"] });
    expect(result).toMatchObject({ clientId: "client-1", scope: ["read"], introspected: true });
    expect(stub.calls).toHaveLength(1);
  });

  it("posts the token, token_type_hint and a private_key_jwt assertion that verifies with the client's public key", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const { token } = await accessToken(clock.ms);
    await (await onlineVerifier(stub, clock)).verify(bearer(token));
    await expectIntrospectionRequest(stub.calls[0]!, token, clock.ms);
  });

  it("signs a new assertion, with a new jti, for every call", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const v = await onlineVerifier(stub, clock, { cacheSeconds: 0 });
    const { token } = await accessToken(clock.ms);
    await v.verify(bearer(token));
    clock.advance(1);
    await v.verify(bearer(token));
    expect(stub.calls).toHaveLength(2);
    const first = await expectIntrospectionRequest(stub.calls[0]!, token, clock.ms - 1000);
    const second = await expectIntrospectionRequest(stub.calls[1]!, token, clock.ms);
    expect(first).not.toBe(second);
  });

  it("posts to the configured endpoint, and follows no redirect", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const endpoint = "https://introspect.example.test/oauth2/introspect";
    const { token } = await accessToken(clock.ms);
    await (await onlineVerifier(stub, clock, { endpoint })).verify(bearer(token));
    expect(stub.calls.map((call) => [call.url, call.redirect])).toEqual([[endpoint, "manual"]]);
  });

  it("signs with a CryptoKey given with its alg and kid", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const { clientKey } = await keys;
    const online = { privateKey: clientKey.privateKey, alg: "ES256", kid: RS_KID };
    const { token } = await accessToken(clock.ms);
    expect((await (await onlineVerifier(stub, clock, online)).verify(bearer(token))).introspected).toBe(true);
    await expectIntrospectionRequest(stub.calls[0]!, token, clock.ms);
  });

  it("calls globalThis.fetch when no fetch is given", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(stub.fetch);
    const { jwks, clientJwk } = await keys;
    const v = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks,
      now: clock.now,
      introspection: { clientId: RS_CLIENT, privateKey: clientJwk },
    });
    const { token } = await accessToken(clock.ms);
    expect((await v.verify(bearer(token))).introspected).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it("offline mode (no introspection option) calls nothing and says nothing of introspection", async () => {
    const clock = testClock();
    const spy = vi.spyOn(globalThis, "fetch");
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: (await keys).jwks, now: clock.now });
    const result = await v.verify(bearer((await accessToken(clock.ms)).token));
    expect(result.introspected).toBeUndefined();
    expect(spy).not.toHaveBeenCalled();
  });
});

describe("online mode: the answer", () => {
  it("refuses a token the issuer says is inactive with rs_token_inactive (401 invalid_token)", async () => {
    const clock = testClock();
    const stub = issuerStub(inactive);
    const { token } = await accessToken(clock.ms);
    expect(await outcome(await onlineVerifier(stub, clock), bearer(token))).toEqual({
      reason: "rs_token_inactive",
      status: 401,
      error: "invalid_token",
      challenge: 'Bearer error="invalid_token", error_description="The access token is no longer active"',
      retryAfter: null,
    });
  });

  const claimsOf = (call: Call) => decodeJwt(call.form.get("token")!);
  it.each<[string, Answer]>([
    ["a 500", () => json({ error: "server_error" }, { status: 500 })],
    ["a 401 invalid_client", () => json({ error: "invalid_client" }, { status: 401 })],
    ["a 403 unauthorized_client", () => json({ error: "unauthorized_client" }, { status: 403 })],
    ["a 429", () => json({ error: "temporarily_unavailable" }, { status: 429, headers: { "Retry-After": "5" } })],
    ["a 503", () => json({ error: "temporarily_unavailable" }, { status: 503, headers: { "Retry-After": "5" } })],
    ["a redirect", () => new Response(null, { status: 307, headers: { Location: "https://elsewhere.example" } })],
    ["a 201 with an active answer", (call) => json({ active: true, ...claimsOf(call) }, { status: 201 })],
    [
      "an active answer that is not application/json",
      (call) =>
        new Response(JSON.stringify({ active: true, ...claimsOf(call) }), { headers: { "Content-Type": "text/html" } }),
    ],
    ["a body that is not JSON", () => json("<html>active</html>")],
    ["a JSON array", () => json([{ active: true }])],
    ["an answer without active", () => json({})],
    ["active as a string", (call) => json({ ...claimsOf(call), active: "true" })],
    ["active as a number", (call) => json({ ...claimsOf(call), active: 1 })],
    [
      "active given twice, false then true",
      (call) => {
        const { jti, client_id: clientId } = claimsOf(call);
        return json(`{"active":false,"jti":"${jti}","client_id":"${clientId}","active":true}`);
      },
    ],
    [
      "an active answer about another jti",
      (call) => json({ active: true, ...claimsOf(call), jti: crypto.randomUUID() }),
    ],
    ["an active answer for another client_id", (call) => json({ active: true, ...claimsOf(call), client_id: "other" })],
    ["an active answer without a jti", (call) => json({ active: true, ...claimsOf(call), jti: undefined })],
    [
      "an answer larger than the limit",
      (call) =>
        json({ active: true, ...claimsOf(call), pad: "x".repeat(RESOURCE_SERVER.maxIntrospectionResponseBytes) }),
    ],
  ])("answers 503 rs_introspection_unavailable to %s", async (_name, answer) => {
    const clock = testClock();
    const stub = issuerStub(answer);
    const { token } = await accessToken(clock.ms);
    expect(await outcome(await onlineVerifier(stub, clock), bearer(token))).toEqual(UNAVAILABLE);
    expect(stub.calls).toHaveLength(1);
  });

  it("answers 503 rs_introspection_unavailable when the fetch throws", async () => {
    const clock = testClock();
    const stub = issuerStub(() => Promise.reject(new TypeError("network connection lost")));
    const { token } = await accessToken(clock.ms);
    expect(await outcome(await onlineVerifier(stub, clock), bearer(token))).toEqual(UNAVAILABLE);
  });

  it("aborts a call still unanswered after introspectionTimeoutMs, and answers 503", async () => {
    const clock = testClock();
    const stub = issuerStub(
      (call) => new Promise((_, reject) => call.signal?.addEventListener("abort", () => reject(call.signal?.reason))),
    );
    const { token } = await accessToken(clock.ms);
    const started = Date.now();
    expect(await outcome(await onlineVerifier(stub, clock), bearer(token))).toEqual(UNAVAILABLE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(RESOURCE_SERVER.introspectionTimeoutMs - 50);
    expect(stub.calls[0]!.signal?.aborted).toBe(true);
    expect((stub.calls[0]!.signal!.reason as Error).name).toBe("TimeoutError");
  });

  it("answers 503 after introspectionTimeoutMs even when the fetch ignores its signal", async () => {
    const clock = testClock();
    const stub = issuerStub(() => new Promise<Response>(() => {}));
    const { token } = await accessToken(clock.ms);
    const started = Date.now();
    expect(await outcome(await onlineVerifier(stub, clock), bearer(token))).toEqual(UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(RESOURCE_SERVER.introspectionTimeoutMs + 1_000);
  });
});

describe("online mode: the answer cache", () => {
  it("reuses an answer within cacheSeconds: a second verify makes no call", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const v = await onlineVerifier(stub, clock);
    const { token } = await accessToken(clock.ms);
    await v.verify(bearer(token));
    clock.advance(RESOURCE_SERVER.introspectionCacheSeconds.default - 1);
    expect((await v.verify(bearer(token))).introspected).toBe(true);
    expect(stub.calls).toHaveLength(1);
  });

  it("asks again once cacheSeconds have passed", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const v = await onlineVerifier(stub, clock, { cacheSeconds: 10 });
    const { token } = await accessToken(clock.ms);
    await v.verify(bearer(token));
    clock.advance(9);
    await v.verify(bearer(token));
    expect(stub.calls).toHaveLength(1);
    clock.advance(1);
    await v.verify(bearer(token));
    expect(stub.calls).toHaveLength(2);
  });

  it("never reuses an answer past the token's exp", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const v = await onlineVerifier(stub, clock, { cacheSeconds: 60 });
    const iat = Math.floor(clock.ms / 1000);
    const { token } = await accessToken(clock.ms, { exp: iat + 10 });
    await v.verify(bearer(token));
    clock.advance(9);
    await v.verify(bearer(token));
    expect(stub.calls).toHaveLength(1);
    // Past exp, still within the clock skew the offline checks allow: the answer is not reused.
    clock.ms = (iat + 11) * 1000;
    await v.verify(bearer(token));
    expect(stub.calls).toHaveLength(2);
  });

  it("reuses an inactive answer too, for the same time", async () => {
    const clock = testClock();
    const stub = issuerStub(inactive);
    const v = await onlineVerifier(stub, clock);
    const { token } = await accessToken(clock.ms);
    expect((await outcome(v, bearer(token))).reason).toBe("rs_token_inactive");
    stub.answer = active;
    clock.advance(1);
    expect((await outcome(v, bearer(token))).reason).toBe("rs_token_inactive");
    expect(stub.calls).toHaveLength(1);
  });

  it("with cacheSeconds 0, asks on every verify", async () => {
    const clock = testClock();
    const stub = issuerStub(async (call) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return active(call);
    });
    const v = await onlineVerifier(stub, clock, { cacheSeconds: 0 });
    const { token } = await accessToken(clock.ms);
    for (let i = 0; i < 2; i++) await v.verify(bearer(token));
    // Not even a call in flight is shared.
    await Promise.all([v.verify(bearer(token)), v.verify(bearer(token))]);
    expect(stub.calls).toHaveLength(4);
  });

  it("never keeps a failure: the verify after a 503 asks again", async () => {
    const clock = testClock();
    const stub = issuerStub(() => json({ error: "temporarily_unavailable" }, { status: 503 }));
    const v = await onlineVerifier(stub, clock);
    const { token } = await accessToken(clock.ms);
    expect((await outcome(v, bearer(token))).reason).toBe("rs_introspection_unavailable");
    stub.answer = active;
    expect((await outcome(v, bearer(token))).reason).toBe("accepted");
    expect(stub.calls).toHaveLength(2);
  });

  it("keeps answers per token: another token's verify asks about it", async () => {
    const clock = testClock();
    const stub = issuerStub(active);
    const v = await onlineVerifier(stub, clock);
    await v.verify(bearer((await accessToken(clock.ms)).token));
    stub.answer = inactive;
    expect((await outcome(v, bearer((await accessToken(clock.ms)).token))).reason).toBe("rs_token_inactive");
    expect(stub.calls).toHaveLength(2);
  });

  it("shares one call between concurrent verifications of the same token", async () => {
    const clock = testClock();
    const stub = issuerStub(async (call) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return active(call);
    });
    const v = await onlineVerifier(stub, clock);
    const { token } = await accessToken(clock.ms);
    const results = await Promise.all([1, 2, 3].map(() => v.verify(bearer(token))));
    expect(results.map((r) => r.introspected)).toEqual([true, true, true]);
    expect(stub.calls).toHaveLength(1);
  });
});

describe("online mode: its place among the checks", () => {
  const dpopRequest = async (token: string, key: ProofKey, jti = crypto.randomUUID()) =>
    new Request(RESOURCE, {
      headers: {
        Authorization: `DPoP ${token}`,
        DPoP: await buildProof(key, RESOURCE, { htm: "GET", ath: await accessTokenHash(token), jti }),
      },
    });

  it.each<[string, (nowMs: number) => Promise<Request>, string, string[]?]>([
    [
      "a token for another audience",
      async (nowMs) => bearer((await accessToken(nowMs, { aud: "https://other.example.test" })).token),
      "rs_token_audience_invalid",
    ],
    [
      "an expired token",
      async (nowMs) => bearer((await accessToken(nowMs, { exp: Math.floor(nowMs / 1000) - 60 })).token),
      "rs_token_expired",
    ],
    [
      "a token whose signature is not over its claims",
      async (nowMs) => {
        const { token } = await accessToken(nowMs);
        const [header, claims] = token.split(".");
        const other = await accessToken(nowMs, { jti: "other" });
        return bearer(`${header}.${claims}.${other.token.split(".")[2]}`);
      },
      "rs_token_signature_invalid",
    ],
    [
      "a token without a required scope",
      async (nowMs) => bearer((await accessToken(nowMs)).token),
      "rs_scope_insufficient",
      ["write"],
    ],
    [
      "a DPoP-bound token presented as Bearer",
      async (nowMs) => bearer((await accessToken(nowMs, { cnf: { jkt: (await proofKey()).jkt } })).token),
      "rs_token_bound_needs_dpop",
    ],
    [
      "a DPoP-bound token with a proof by another key",
      async (nowMs) => {
        const { token } = await accessToken(nowMs, { cnf: { jkt: (await proofKey()).jkt } });
        return dpopRequest(token, await proofKey("ES256", 1));
      },
      "rs_dpop_key_mismatch",
    ],
  ])("refuses %s offline, without an introspection call", async (_name, build, reason, scopes) => {
    const clock = testClock();
    const stub = issuerStub(active);
    const v = await onlineVerifier(stub, clock);
    expect((await outcome(v, await build(clock.ms), scopes)).reason).toBe(reason);
    expect(stub.calls).toEqual([]);
  });

  it("a DPoP-bound token refused as inactive leaves its proof unspent: the same proof passes once the issuer answers active", async () => {
    const clock = testClock();
    const stub = issuerStub(inactive);
    const v = await onlineVerifier(stub, clock, { cacheSeconds: 0 });
    const key = await proofKey();
    const { token } = await accessToken(clock.ms, { cnf: { jkt: key.jkt } });
    const req = await dpopRequest(token, key);
    expect(await outcome(v, req.clone())).toMatchObject({
      reason: "rs_token_inactive",
      status: 401,
      challenge: expect.stringMatching(
        /^DPoP error="invalid_token", error_description="The access token is no longer active", algs=/,
      ),
    });
    stub.answer = active;
    expect(await outcome(v, req.clone())).toEqual({ reason: "accepted" });
    // Spent now: the same proof again is a replay.
    expect((await outcome(v, req)).reason).toBe("dpop_replayed");
  });

  it("a proof refused because the issuer is unavailable is not spent either", async () => {
    const clock = testClock();
    const stub = issuerStub(() => Promise.reject(new TypeError("down")));
    const v = await onlineVerifier(stub, clock);
    const key = await proofKey();
    const { token } = await accessToken(clock.ms, { cnf: { jkt: key.jkt } });
    const req = await dpopRequest(token, key);
    expect((await outcome(v, req.clone())).reason).toBe("rs_introspection_unavailable");
    stub.answer = active;
    expect(await outcome(v, req)).toEqual({ reason: "accepted" });
  });
});

describe("createVerifier: the introspection options", () => {
  const create = async (online: Record<string, unknown>, options: Partial<VerifierOptions> = {}) => {
    const { jwks, clientJwk } = await keys;
    const introspection = { clientId: RS_CLIENT, privateKey: clientJwk, ...online } as IntrospectionOptions;
    return () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks, ...options, introspection });
  };

  it.each<[string, (k: Awaited<typeof keys>) => Record<string, unknown>, RegExp]>([
    ["no clientId", () => ({ clientId: undefined }), /introspection\.clientId/],
    ["a clientId that is not a client_id", () => ({ clientId: "bad\nid" }), /introspection\.clientId/],
    ["no privateKey", () => ({ privateKey: undefined }), /introspection\.privateKey/],
    [
      "a public JWK (no d)",
      (k) => ({ privateKey: { ...k.clientJwk, d: undefined } }),
      /introspection\.privateKey has no "d"/,
    ],
    [
      "a JWK whose alg is HS256",
      (k) => ({ privateKey: { ...k.clientJwk, alg: "HS256" } }),
      /introspection\.privateKey: its alg/,
    ],
    ["alg none", () => ({ alg: "none" }), /introspection\.alg: none/],
    [
      "an alg the key cannot sign",
      (k) => ({ privateKey: { ...k.clientJwk, alg: undefined }, alg: "RS256" }),
      /introspection\.privateKey \(kty EC\) cannot sign RS256/,
    ],
    ["an alg other than the JWK's", () => ({ alg: "ES384" }), /introspection\.alg and the alg/],
    [
      "a JWK with no alg and no alg option",
      (k) => ({ privateKey: { ...k.clientJwk, alg: undefined } }),
      /needs an alg/,
    ],
    [
      "a symmetric key",
      () => ({ privateKey: { kty: "oct", k: "c2VjcmV0", d: "x", alg: "ES256" } }),
      /introspection\.privateKey/,
    ],
    ["a CryptoKey without alg", (k) => ({ privateKey: k.clientKey.privateKey }), /introspection\.alg is required/],
    [
      "a public CryptoKey",
      (k) => ({ privateKey: k.clientKey.publicKey, alg: "ES256" }),
      /introspection\.privateKey must sign/,
    ],
    ["an empty kid", () => ({ kid: "" }), /introspection\.kid/],
    [
      "an http endpoint",
      () => ({ endpoint: "http://as.example.test/introspect" }),
      /introspection\.endpoint must use https/,
    ],
    ["an endpoint that is not a URL", () => ({ endpoint: "introspect" }), /introspection\.endpoint is not a URL/],
    [
      "an endpoint with credentials",
      () => ({ endpoint: "https://u:p@as.example.test/introspect" }),
      /introspection\.endpoint must have no credentials/,
    ],
    ["a negative cacheSeconds", () => ({ cacheSeconds: -1 }), /introspection\.cacheSeconds/],
    [
      "a cacheSeconds above the maximum",
      () => ({ cacheSeconds: RESOURCE_SERVER.introspectionCacheSeconds.max + 1 }),
      /introspection\.cacheSeconds/,
    ],
    ["a fractional cacheSeconds", () => ({ cacheSeconds: 1.5 }), /introspection\.cacheSeconds/],
    ["a fetch that is not a function", () => ({ fetch: "https://as.example.test" }), /introspection\.fetch/],
  ])("refuses %s, naming the option", async (_name, change, message) => {
    expect(await create(change(await keys))).toThrow(message);
  });

  it("refuses an introspection option that is not an object", async () => {
    const { jwks } = await keys;
    const introspection = "on" as unknown as IntrospectionOptions;
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks, introspection })).toThrow(/introspection/);
  });

  it("never quotes the private key in its message", async () => {
    const { clientJwk } = await keys;
    const attempt = await create({ privateKey: { ...clientJwk, alg: "HS256" } });
    expect(attempt).toThrow();
    try {
      attempt();
    } catch (err) {
      expect((err as Error).message).not.toContain(clientJwk.d!);
    }
  });

  it.each([
    ["an http endpoint on localhost", { endpoint: "http://localhost:8787/introspect" }],
    ["cacheSeconds 0", { cacheSeconds: 0 }],
    ["cacheSeconds 60", { cacheSeconds: RESOURCE_SERVER.introspectionCacheSeconds.max }],
  ])("accepts %s", async (_name, online) => {
    expect(await create(online)).not.toThrow();
  });
});

describe("online mode against this service's own introspection endpoint", () => {
  /** A verifier that introspects as `resourceServer` through the Worker's own fetch handler (real storage). */
  async function selfVerifier(resourceServer: TestClient): Promise<Verifier> {
    const jwks = (await (await get("/.well-known/jwks.json")).json()) as JSONWebKeySet;
    const { privateKey, alg, kid } = resourceServer.key;
    const selfFetch = (url: string, init: RequestInit) => exports.default.fetch(new Request(url, init));
    return createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks,
      introspection: {
        clientId: resourceServer.clientId,
        privateKey,
        alg,
        kid,
        cacheSeconds: 0,
        fetch: selfFetch as typeof fetch,
      },
    });
  }

  it("accepts a token the endpoint says is active, and refuses it with rs_token_inactive once it is revoked", async () => {
    const [resourceServer, client] = [await registerIntrospector(), await registerClient()];
    const token = await accessTokenFor(client, { scope: "read" });
    const v = await selfVerifier(resourceServer);
    expect(await v.verify(bearer(token))).toMatchObject({ clientId: client.clientId, introspected: true });
    expect((await revoke(token, { as: client })).status).toBe(200);
    expect((await outcome(v, bearer(token))).reason).toBe("rs_token_inactive");
  });

  it("answers 503 rs_introspection_unavailable when the endpoint refuses a resource server not allowed to introspect", async () => {
    const [resourceServer, client] = [await registerClient(), await registerClient()];
    const token = await accessTokenFor(client, { scope: "read" });
    expect(await outcome(await selfVerifier(resourceServer), bearer(token))).toEqual(UNAVAILABLE);
  });
});
