// Clients whose keys live at a jwks_uri: fetching, caching within bounds, refetch on unknown kid with a cooldown,
// a cooldown after a failed fetch, one fetch in flight that nobody waits on past a bound, last good set on failure,
// the Cache API write off the response path, redirect and size rules, and the whole flow through the Worker.
import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { clearIsolateCaches } from "../../../src/lib/bounded-cache";
import { JWKS_URI, LIMITS } from "../../../src/protocol/constants";
import { freshSeconds, remoteClientKeys, usableKeys } from "../../../src/registry/remote-jwks";
import {
  auditLog,
  buildAssertion,
  type ClientKey,
  clientKey,
  expectIssued,
  invalidClient,
  postToken,
  refusalOf,
  registerClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";

let uriCounter = 0;
function uniqueUri() {
  uriCounter += 1;
  return `https://keys.client.example/${crypto.randomUUID()}/${uriCounter}/jwks.json`;
}

/**
 * A fake key server: serves `keys()` as a JWK Set and counts requests. While `down` is set, every request is
 * counted and fails as a refused connection would.
 */
function keyServer(
  keys: () => unknown[],
  init: { status?: number; headers?: Record<string, string>; body?: string } = {},
) {
  const server = { calls: [] as string[], down: false, fetcher: undefined as unknown as typeof fetch };
  server.fetcher = (async (input: RequestInfo | URL) => {
    server.calls.push(String(input));
    if (server.down) throw new Error("connection refused");
    return new Response(init.body ?? JSON.stringify({ keys: keys() }), {
      status: init.status ?? 200,
      headers: { "Content-Type": "application/json", ...init.headers },
    });
  }) as typeof fetch;
  return server;
}

const T0 = 1_800_000_000_000;
const COOLDOWN_MS = JWKS_URI.unknownKidCooldownSeconds * 1000;
/** The longest a request waits on a fetch, and the age at which an unsettled shared fetch is replaced. */
const FLIGHT_BOUND_MS = JWKS_URI.fetchTimeoutMs + JWKS_URI.inflightGraceMs;

/** A key server whose answers never come (a fetch whose owning request was cancelled looks the same). */
function silentKeyServer() {
  const calls: string[] = [];
  let called!: () => void;
  const firstCall = new Promise<void>((resolve) => (called = resolve));
  const fetcher = ((input: RequestInfo | URL) => {
    calls.push(String(input));
    called();
    return new Promise<Response>(() => {});
  }) as typeof fetch;
  return { fetcher, calls, firstCall };
}

/**
 * Waits on the real clock until `ready()` holds (at most a second). For tests that fake setTimeout: vi.waitFor would
 * advance the fake clock while it polls.
 */
async function until(ready: () => boolean) {
  for (let i = 0; i < 200 && !ready(); i++) await scheduler.wait(5);
}

/** "resolved", the reason of a TokenServiceError, or "pending" while `promise` has not settled. */
function outcomeOf(promise: Promise<unknown>): () => string {
  let outcome = "pending";
  promise.then(
    () => (outcome = "resolved"),
    (err: { reason?: string }) => (outcome = err.reason ?? "rejected"),
  );
  return () => outcome;
}

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
    await Promise.all(
      Array.from({ length: 10 }, () =>
        remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: server.fetcher }),
      ),
    );
    expect(server.calls).toHaveLength(1);
  });

  it("serves the last good set when a refresh fails, for a bounded time", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    const { calls, fetcher } = server;
    const uri = uniqueUri();
    await remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher });
    server.down = true;
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

  it("fetches at most once per cooldown when the key server is down and nothing is cached", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    server.down = true;
    const { calls, fetcher } = server;
    const uri = uniqueUri();
    const at = (nowMs: number) => remoteClientKeys(uri, { nowMs, allowInsecure: false, fetcher });
    // Ten requests spread over the cooldown, and ten at once: one fetch, every one refused.
    for (let i = 0; i < 10; i++)
      await expect(at(T0 + i * 2_900)).rejects.toMatchObject({ reason: "jwks_uri_unavailable" });
    const burst = await Promise.allSettled(Array.from({ length: 10 }, () => at(T0 + 29_000)));
    expect(
      burst.every((r) => r.status === "rejected" && (r.reason as { reason: string }).reason === "jwks_uri_unavailable"),
    ).toBe(true);
    expect(calls).toHaveLength(1);
    // After the cooldown: one more fetch, which fails and starts the next cooldown.
    await expect(at(T0 + COOLDOWN_MS)).rejects.toMatchObject({ reason: "jwks_uri_unavailable" });
    await expect(at(T0 + COOLDOWN_MS + 1_000)).rejects.toMatchObject({ reason: "jwks_uri_unavailable" });
    expect(calls).toHaveLength(2);
    // The key server is back: the first request after that cooldown gets the set.
    server.down = false;
    expect((await at(T0 + 2 * COOLDOWN_MS)).refreshed).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it("starts a new fetch instead of joining a shared one older than its bound", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const key = await clientKey("ES256");
      const silent = silentKeyServer();
      const uri = uniqueUri();
      // The request that starts this fetch is cancelled: the fetch never settles and its entry is never removed.
      void remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: silent.fetcher }).catch(() => {});
      await silent.firstCall;
      const server = keyServer(() => [key.publicJwk]);
      const later = remoteClientKeys(uri, {
        nowMs: T0 + FLIGHT_BOUND_MS + 1,
        allowInsecure: false,
        fetcher: server.fetcher,
      });
      const outcome = outcomeOf(later);
      await until(() => outcome() !== "pending");
      expect(outcome()).toBe("resolved");
      expect((await later).keys[0]!.kid).toBe(key.kid);
      expect(silent.calls).toHaveLength(1);
      expect(server.calls).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses a request waiting on a shared fetch that never settles, once the bound has passed", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const silent = silentKeyServer();
      const uri = uniqueUri();
      const starter = outcomeOf(remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: silent.fetcher }));
      await silent.firstCall;
      const waiter = outcomeOf(
        remoteClientKeys(uri, { nowMs: T0 + 1_000, allowInsecure: false, fetcher: silent.fetcher }),
      );
      // Both requests wait on one fetch, each on its own timer.
      await until(() => vi.getTimerCount() === 2);
      expect(vi.getTimerCount()).toBe(2);
      await vi.advanceTimersByTimeAsync(FLIGHT_BOUND_MS - 1);
      expect(waiter()).toBe("pending");
      await vi.advanceTimersByTimeAsync(1);
      await until(() => waiter() !== "pending");
      expect(waiter()).toBe("jwks_uri_unavailable");
      expect(starter()).toBe("jwks_uri_unavailable");
      expect(silent.calls).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("serves the last good set to requests whose shared refresh never settles", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const key = await clientKey("ES256");
      const uri = uniqueUri();
      await remoteClientKeys(uri, {
        nowMs: T0,
        allowInsecure: false,
        fetcher: keyServer(() => [key.publicJwk]).fetcher,
      });
      const silent = silentKeyServer();
      const expired = T0 + JWKS_URI.defaultFreshSeconds * 1000 + 1;
      const requests = Array.from({ length: 3 }, () =>
        remoteClientKeys(uri, { nowMs: expired, allowInsecure: false, fetcher: silent.fetcher }),
      );
      const outcomes = requests.map(outcomeOf);
      await silent.firstCall;
      await vi.advanceTimersByTimeAsync(FLIGHT_BOUND_MS);
      await until(() => outcomes.every((o) => o() !== "pending"));
      expect(outcomes.map((o) => o())).toEqual(["resolved", "resolved", "resolved"]);
      for (const request of requests) expect((await request).keys[0]!.kid).toBe(key.kid);
      expect(silent.calls).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("hands the Cache API write to waitUntil instead of waiting for it", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    let releasePut!: () => void;
    const put = vi
      .spyOn(caches.default, "put")
      .mockImplementation(() => new Promise<void>((resolve) => (releasePut = resolve)));
    const handedOver: Promise<unknown>[] = [];
    const uri = uniqueUri();
    const result = remoteClientKeys(uri, {
      nowMs: T0,
      allowInsecure: false,
      fetcher: server.fetcher,
      waitUntil: (promise) => handedOver.push(promise),
      cacheIntegrityKey: await integrityKey(),
    });
    const outcome = outcomeOf(result);
    // The keys arrive while the write is still pending, and the write is in waitUntil's hands.
    await vi.waitFor(() => expect(outcome()).toBe("resolved"), { timeout: 1_000 });
    expect(put).toHaveBeenCalledTimes(1);
    expect(handedOver).toHaveLength(1);
    const written = outcomeOf(handedOver[0]!);
    expect(written()).toBe("pending");
    releasePut();
    await handedOver[0];
    expect(written()).toBe("resolved");
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
    expect((await remoteClientKeys(other, { nowMs: T0, allowInsecure: false, fetcher: sameOrigin })).keys).toHaveLength(
      1,
    );
    expect(calls[1]).toBe("https://keys.client.example/moved/jwks.json");
  });

  it("refuses a JWK Set over the size cap", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [], {
      body: JSON.stringify({ keys: [key.publicJwk], pad: "x".repeat(JWKS_URI.maxBytes) }),
    });
    await expect(
      remoteClientKeys(uniqueUri(), { nowMs: T0, allowInsecure: false, fetcher: server.fetcher }),
    ).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
  });

  it("refuses a non-200 answer, even one whose body is a valid key set", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk], { status: 500 });
    await expect(
      remoteClientKeys(uniqueUri(), { nowMs: T0, allowInsecure: false, fetcher: server.fetcher }),
    ).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
  });

  it("refuses a loopback host, over http or https, unless ALLOW_INSECURE_JWKS_URI, and plain http elsewhere always", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    for (const uri of ["http://127.0.0.1:9999/jwks", "https://localhost:9999/jwks", "https://[::1]/jwks"]) {
      await expect(
        remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: server.fetcher }),
      ).rejects.toMatchObject({ reason: "jwks_uri_unavailable" });
    }
    await expect(
      remoteClientKeys("http://keys.example/jwks", { nowMs: T0, allowInsecure: true, fetcher: server.fetcher }),
    ).rejects.toMatchObject({
      reason: "jwks_uri_unavailable",
    });
    expect(server.calls).toHaveLength(0);
    expect(
      (
        await remoteClientKeys("http://127.0.0.1:9999/jwks", {
          nowMs: T0,
          allowInsecure: true,
          fetcher: server.fetcher,
        })
      ).keys,
    ).toHaveLength(1);
  });

  it(`looks at no more than the first ${LIMITS.maxPublishedKeysScanned} entries of a published set`, async () => {
    const key = await clientKey("ES256");
    const junk = Array.from({ length: LIMITS.maxPublishedKeysScanned }, (_, i) => ({
      kty: "oct",
      k: "c2VjcmV0",
      kid: `j${i}`,
    }));
    expect(() => usableKeys({ keys: [...junk, key.publicJwk] })).toThrow(/no usable signature key/);
    expect(usableKeys({ keys: [...junk.slice(1), key.publicJwk] })).toHaveLength(1);
  });

  it("skips keys for other uses and refuses a set with no signature key", async () => {
    const key = await clientKey("ES256");
    expect(usableKeys({ keys: [{ ...key.publicJwk, use: "enc", kid: "e" }, key.publicJwk] })).toHaveLength(1);
    expect(() => usableKeys({ keys: [{ kty: "oct", k: "abc" }] })).toThrow(/no usable signature key/);
  });
});

/** An HMAC key like the one issuer/signing-keys.ts derives. */
function integrityKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]) as Promise<CryptoKey>;
}

/** Writes a Cache API entry for `uri` as another Worker of the zone could: MAC'd with `key`, or with no MAC at all. */
async function plantCacheEntry(uri: string, keys: unknown[], fetchedAt: number, key?: CryptoKey, maxAge = 300) {
  const serialised = JSON.stringify(keys);
  const entry: Record<string, unknown> = { keys: serialised, fetched_at: fetchedAt };
  if (key) {
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${uri}\n${fetchedAt}\n${serialised}`));
    entry.mac = base64url.encode(new Uint8Array(mac));
  }
  await caches.default.put(
    `https://jwks-cache.invalid/?uri=${encodeURIComponent(uri)}`,
    new Response(JSON.stringify(entry), { headers: { "Cache-Control": `max-age=${maxAge}` } }),
  );
}

describe("Cache API entries", () => {
  it("are shared between isolates when their MAC verifies", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    const uri = uniqueUri();
    const options = {
      nowMs: T0,
      allowInsecure: false,
      fetcher: server.fetcher,
      cacheIntegrityKey: await integrityKey(),
    };
    await remoteClientKeys(uri, options);
    clearIsolateCaches();
    expect((await remoteClientKeys(uri, { ...options, nowMs: T0 + 1_000 })).keys[0]!.kid).toBe(key.kid);
    expect(server.calls).toHaveLength(1);
  });

  it("written by anyone without this Worker's key (no MAC, or another key's) are ignored: the key server is asked", async () => {
    const real = await clientKey("ES256");
    const planted = await clientKey("ES256", 5);
    for (const forger of [undefined, await integrityKey()]) {
      const server = keyServer(() => [real.publicJwk]);
      const uri = uniqueUri();
      await plantCacheEntry(uri, [planted.publicJwk], T0, forger);
      const options = {
        nowMs: T0,
        allowInsecure: false,
        fetcher: server.fetcher,
        cacheIntegrityKey: await integrityKey(),
      };
      expect((await remoteClientKeys(uri, options)).keys.map((k) => k.kid)).toEqual([real.kid]);
      expect(server.calls).toHaveLength(1);
    }
  });

  it("are fresh from no later than now, whatever fetch time they claim", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    const uri = uniqueUri();
    const integrity = await integrityKey();
    await plantCacheEntry(uri, [key.publicJwk], T0 + 10 * 365 * 86_400_000, integrity, 60);
    const options = { nowMs: T0, allowInsecure: false, fetcher: server.fetcher, cacheIntegrityKey: integrity };
    await remoteClientKeys(uri, options);
    expect(server.calls).toHaveLength(0);
    // Read at T0, the entry is fresh for its max-age from T0, not from the year it claims.
    await remoteClientKeys(uri, { ...options, nowMs: T0 + 61_000 });
    expect(server.calls).toHaveLength(1);
  });

  it("are not used at all without an integrity key", async () => {
    const key = await clientKey("ES256");
    const server = keyServer(() => [key.publicJwk]);
    const uri = uniqueUri();
    const put = vi.spyOn(caches.default, "put");
    await remoteClientKeys(uri, { nowMs: T0, allowInsecure: false, fetcher: server.fetcher });
    expect(put).not.toHaveBeenCalled();
  });
});

describe("a published key set", () => {
  it("is held to the bounds of an inline one: at most 20 signature keys, no kid twice", async () => {
    const key = await clientKey("ES256");
    const many = Array.from({ length: 21 }, (_, i) => ({ ...key.publicJwk, kid: `k${i}` }));
    expect(() => usableKeys({ keys: many })).toThrow("more than 20 signature keys");
    expect(() => usableKeys({ keys: many.slice(0, 20) })).not.toThrow();
    expect(() => usableKeys({ keys: [key.publicJwk, key.publicJwk] })).toThrow("names a kid twice");
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
    const client = await registerClient({ record: { jwks: undefined, jwks_uri: uri } });
    return { client, calls };
  }

  it("issues a token to a client whose key is at its jwks_uri", async () => {
    const key = await clientKey("ES256");
    const { client, calls } = await jwksUriClient(() => [key]);
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
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
      await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))));
      // Step 1: the client publishes its new key next to the old one, and starts signing with it.
      published = [newKey, oldKey];
      vi.setSystemTime(start + (JWKS_URI.unknownKidCooldownSeconds + 1) * 1000);
      await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: newKey }))));
      expect(calls).toHaveLength(2);
      // The old key still works while it is published (the set is fresh: no fetch).
      await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))));
      expect(calls).toHaveLength(2);
      // Step 2: the client retires the old key; once the cached set expires it is refused.
      published = [newKey];
      vi.setSystemTime(start + (JWKS_URI.unknownKidCooldownSeconds + 1 + 300) * 1000);
      expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client, { signWith: oldKey }))))).toEqual(
        invalidClient("no_matching_key"),
      );
      await expectIssued(await postToken(tokenForm(await buildAssertion(client, { signWith: newKey }))));
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets an unknown-kid storm cause no fetch within the cooldown", async () => {
    const key = await clientKey("ES256");
    const { client, calls } = await jwksUriClient(() => [key]);
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    const storm = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        postToken(tokenForm(await buildAssertion(client, { header: { kid: `unknown-${i}` } }))),
      ),
    );
    expect(storm.every((r) => r.status === 401)).toBe(true);
    const reasons = auditLog().map((line) => line.reason ?? line.outcome);
    expect(reasons).toEqual(["issued", ...Array(20).fill("no_matching_key")]);
    expect(calls).toHaveLength(1);
  });

  it("lets requests for a client whose key server is down and uncached cause one fetch per cooldown", async () => {
    const calls: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      calls.push(input instanceof Request ? input.url : String(input));
      throw new Error("connection refused");
    });
    const base = await registerClient({ record: { jwks: undefined, jwks_uri: uniqueUri() } });
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    try {
      for (let i = 0; i < 5; i++) {
        vi.setSystemTime(start + i * 5_000);
        expect(await refusalOf(await postToken(tokenForm(await buildAssertion(base))))).toEqual(
          invalidClient("jwks_uri_unavailable"),
        );
      }
      // No valid signature is needed to reach the key fetch: garbage-signed assertions are refused without one.
      const storm = await Promise.all(
        Array.from({ length: 10 }, async () =>
          postToken(tokenForm(await buildAssertion(base, { signWith: await clientKey("ES256", 53) }))),
        ),
      );
      expect(storm.every((r) => r.status === 401)).toBe(true);
      expect(auditLog().map((line) => line.reason)).toEqual(Array(15).fill("jwks_uri_unavailable"));
      expect(calls).toHaveLength(1);
      vi.setSystemTime(start + COOLDOWN_MS + 1_000);
      expect(await refusalOf(await postToken(tokenForm(await buildAssertion(base))))).toEqual(
        invalidClient("jwks_uri_unavailable"),
      );
      expect(calls).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers without waiting for the Cache API write", async () => {
    const key = await clientKey("ES256");
    const { client, calls } = await jwksUriClient(() => [key]);
    // A slow write, settled by a timer of the request's own (workerd refuses a settlement from another context).
    let written = false;
    const put = vi.spyOn(caches.default, "put").mockImplementation(
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            written = true;
            resolve();
          }, 300),
        ),
    );
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    expect(put).toHaveBeenCalledTimes(1);
    expect(written).toBe(false);
    expect(calls).toHaveLength(1);
    await until(() => written);
  });

  it("issues a token through app.fetch with no execution context (the Cache API write is then awaited)", async () => {
    const key = await clientKey("ES256");
    const { client } = await jwksUriClient(() => [key]);
    const request = new Request(TOKEN_ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(tokenForm(await buildAssertion(client))).toString(),
    });
    expect((await createApp().fetch(request, env)).status).toBe(200);
  });

  it("refuses the client with invalid_client when its jwks_uri cannot be fetched", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new Error("down"));
    const base = await registerClient({ record: { jwks: undefined, jwks_uri: uniqueUri() } });
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(base))))).toEqual(
      invalidClient("jwks_uri_unavailable"),
    );
  });
});
