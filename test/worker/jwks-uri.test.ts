// Clients whose keys live at a jwks_uri: fetching, caching within bounds, refetch on unknown kid with a cooldown,
// one fetch in flight, last good set on failure, redirect and size rules, and the whole flow through the Worker.
import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JWKS_URI } from "../../src/constants";
import { clearRemoteJwksCache, freshSeconds, remoteClientKeys, usableKeys } from "../../src/registry/remote-jwks";
import { buildAssertion, clientKey, errorOf, postToken, registerClient, tokenForm, type ClientKey } from "./support";

let uriCounter = 0;
function uniqueUri() {
  uriCounter += 1;
  return `https://keys.client.example/${crypto.randomUUID()}/${uriCounter}/jwks.json`;
}

/** A fake key server: serves `keys()` as a JWK Set and counts requests. */
function keyServer(keys: () => unknown[], init: { status?: number; headers?: Record<string, string>; body?: string } = {}) {
  const calls: string[] = [];
  const fetcher = (async (input: RequestInfo | URL) => {
    calls.push(String(input));
    return new Response(init.body ?? JSON.stringify({ keys: keys() }), {
      status: init.status ?? 200,
      headers: { "Content-Type": "application/json", ...init.headers },
    });
  }) as typeof fetch;
  return { fetcher, calls };
}

beforeEach(() => clearRemoteJwksCache());
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const T0 = 1_800_000_000_000;

describe("remoteClientKeys", () => {
  it("fetches once and serves the cached set while fresh", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk], { headers: { "Cache-Control": "max-age=120" } });
    const uri = uniqueUri();
    const opts = { nowMs: T0, allowInsecure: false, fetcher: server.fetcher };
    expect((await remoteClientKeys(uri, opts)).keys[0]!.kid).toBe(key.kid);
    await remoteClientKeys(uri, { ...opts, nowMs: T0 + 119_000 });
    expect(server.calls).toHaveLength(1);
    await remoteClientKeys(uri, { ...opts, nowMs: T0 + 121_000 });
    expect(server.calls).toHaveLength(2);
  });

  it("clamps max-age to the floor and the ceiling", () => {
    expect(freshSeconds("max-age=1")).toBe(JWKS_URI.minFreshSeconds);
    expect(freshSeconds("public, max-age=999999")).toBe(JWKS_URI.maxFreshSeconds);
    expect(freshSeconds("max-age=600")).toBe(600);
    expect(freshSeconds(null)).toBe(JWKS_URI.defaultFreshSeconds);
    expect(freshSeconds("no-store")).toBe(JWKS_URI.defaultFreshSeconds);
  });

  it("refetches for an unknown kid at most once per cooldown", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    const uri = uniqueUri();
    const opts = { nowMs: T0, allowInsecure: false, fetcher: server.fetcher };
    await remoteClientKeys(uri, opts);
    for (let i = 1; i <= 20; i++) await remoteClientKeys(uri, { ...opts, nowMs: T0 + i * 1000 }, true);
    expect(server.calls).toHaveLength(1);
    expect((await remoteClientKeys(uri, { ...opts, nowMs: T0 + 30_000 }, true)).refreshed).toBe(true);
    expect(server.calls).toHaveLength(2);
  });

  it("keeps one fetch in flight per URL", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    const uri = uniqueUri();
    await Promise.all(Array.from({ length: 10 }, () => remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: server.fetcher })));
    expect(server.calls).toHaveLength(1);
  });

  it("serves the last good set when a refresh fails, for a bounded time", async () => {
    const key = await clientKey("ES256");
    let up = true;
    const calls: string[] = [];
    const fetcher = (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      if (!up) throw new Error("connection refused");
      return Response.json({ keys: [key.publicJwk] });
    }) as typeof fetch;
    const uri = uniqueUri();
    await remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher });
    up = false;
    const later = T0 + JWKS_URI.defaultFreshSeconds * 1000 + 1;
    expect((await remoteClientKeys(uri, { nowMs: later, allowInsecure: false, fetcher })).keys).toHaveLength(1);
    // The failed attempt starts a cooldown: no fetch per request during an outage.
    await remoteClientKeys(uri, { nowMs: later + 1000, allowInsecure: false, fetcher });
    expect(calls).toHaveLength(2);
    const tooLate = T0 + JWKS_URI.maxStaleSeconds * 1000 + 1;
    await expect(remoteClientKeys(uri, { nowMs: tooLate, allowInsecure: false, fetcher })).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
  });

  it("refuses a redirect to another origin and follows one on the same origin", async () => {
    const key = await clientKey("ES256");
    const uri = uniqueUri();
    // The other origin would serve a perfectly valid set: only the origin rule stops it.
    const elsewhere = (async (input: RequestInfo | URL) =>
      String(input).startsWith("https://attacker.example/")
        ? Response.json({ keys: [key.publicJwk] })
        : new Response(null, { status: 302, headers: { Location: "https://attacker.example/jwks" } })) as typeof fetch;
    await expect(remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: elsewhere })).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
    const calls: string[] = [];
    const sameOrigin = (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      return calls.length === 1
        ? new Response(null, { status: 301, headers: { Location: "/moved/jwks.json" } })
        : Response.json({ keys: [key.publicJwk] });
    }) as typeof fetch;
    const other = uniqueUri();
    expect((await remoteClientKeys(other, { nowMs: T0, allowInsecure: false, fetcher: sameOrigin })).keys).toHaveLength(1);
    expect(calls[1]).toBe("https://keys.client.example/moved/jwks.json");
  });

  it("refuses a JWK Set over the size cap", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [], { body: JSON.stringify({ keys: [key.publicJwk], pad: "x".repeat(JWKS_URI.maxBytes) }) });
    await expect(remoteClientKeys(uniqueUri(), { nowMs: T0, allowInsecure: false, fetcher: server.fetcher })).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
  });

  it("refuses a non-200 answer", async () => {
    const server = keyServer(() => [], { status: 500 });
    await expect(remoteClientKeys(uniqueUri(), { nowMs: T0, allowInsecure: false, fetcher: server.fetcher })).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
  });

  it("refuses plain http unless ALLOW_INSECURE_JWKS_URI, and never for non-loopback hosts", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    await expect(remoteClientKeys("http://127.0.0.1:9999/jwks", { nowMs: T0, allowInsecure: false, fetcher: server.fetcher })).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
    await expect(remoteClientKeys("http://keys.example/jwks", { nowMs: T0, allowInsecure: true, fetcher: server.fetcher })).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
    expect(server.calls).toHaveLength(0);
    expect((await remoteClientKeys("http://127.0.0.1:9999/jwks", { nowMs: T0, allowInsecure: true, fetcher: server.fetcher })).keys).toHaveLength(1);
  });

  it("skips keys for other uses and refuses a set with no signature key", async () => {
    const key = await clientKey("ES256");
    expect(usableKeys({ keys: [{ ...key.publicJwk, use: "enc", kid: "e" }, key.publicJwk] })).toHaveLength(1);
    expect(() => usableKeys({ keys: [{ kty: "oct", k: "abc" }] })).toThrow(/no usable signature key/);
  });
});

describe("jwks_uri clients through the Worker", () => {
  async function jwksUriClient(serve: () => ClientKey[]) {
    const calls: string[] = [];
    const uri = uniqueUri();
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== uri) throw new Error(`unexpected fetch of ${url}`);
      calls.push(url);
      return Response.json({ keys: serve().map((k) => k.publicJwk) }, { headers: { "Cache-Control": "max-age=300" } });
    });
    const base = await registerClient();
    const { jwks: _inline, ...rest } = base.record;
    const record = { ...rest, jwks_uri: uri };
    await env.CLIENTS.put(`client:${base.clientId}`, JSON.stringify(record));
    return { client: { ...base, record }, calls };
  }

  it("issues a token to a client whose key is at its jwks_uri", async () => {
    const key = await clientKey("ES256");
    const { client, calls } = await jwksUriClient(() => [key]);
    expect((await postToken(tokenForm(await buildAssertion(client)))).status).toBe(200);
    expect((await postToken(tokenForm(await buildAssertion(client)))).status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it("accepts a rotated key after one refetch, once the cooldown since the last fetch has passed", async () => {
    const oldKey = await clientKey("ES256", 51);
    const newKey = await clientKey("ES256", 52);
    let published = [oldKey];
    const { client, calls } = await jwksUriClient(() => published);
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    try {
      expect((await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey })))).status).toBe(200);
      // Step 1: the client publishes its new key next to the old one, and starts signing with it.
      published = [newKey, oldKey];
      vi.setSystemTime(start + (JWKS_URI.unknownKidCooldownSeconds + 1) * 1000);
      expect((await postToken(tokenForm(await buildAssertion(client, { signWith: newKey })))).status).toBe(200);
      expect(calls).toHaveLength(2);
      // The old key still works while it is published (the set is fresh: no fetch).
      expect((await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey })))).status).toBe(200);
      expect(calls).toHaveLength(2);
      // Step 2: the client retires the old key; once the cached set expires it is refused.
      published = [newKey];
      vi.setSystemTime(start + (JWKS_URI.unknownKidCooldownSeconds + 1 + 300) * 1000);
      expect((await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey })))).status).toBe(401);
      expect((await postToken(tokenForm(await buildAssertion(client, { signWith: newKey })))).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets an unknown-kid storm cause no fetch within the cooldown", async () => {
    const key = await clientKey("ES256");
    const { client, calls } = await jwksUriClient(() => [key]);
    expect((await postToken(tokenForm(await buildAssertion(client)))).status).toBe(200);
    const storm = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => postToken(tokenForm(await buildAssertion(client, { header: { kid: `unknown-${i}` } })))),
    );
    expect(storm.every((r) => r.status === 401)).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it("refuses the client with invalid_client when its jwks_uri cannot be fetched", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new Error("down"));
    const base = await registerClient();
    const { jwks: _inline, ...rest } = base.record;
    await env.CLIENTS.put(`client:${base.clientId}`, JSON.stringify({ ...rest, jwks_uri: uniqueUri() }));
    expect(await errorOf(await postToken(tokenForm(await buildAssertion(base))))).toMatchObject({ status: 401, error: "invalid_client" });
  });
});
