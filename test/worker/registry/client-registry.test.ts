// Unit tests for the per-isolate client record cache of src/registry/client-registry.ts, against a fake KV that
// counts reads. The clock is passed in: nothing sleeps.
import { describe, expect, it } from "vitest";
import { CLIENT_CACHE_ENTRIES } from "../../../src/protocol/constants";
import { loadActiveClient } from "../../../src/registry/client-registry";
import { clientKey, uniqueClientId } from "../support";
import { reasonOfPromise as reasonOf } from "../verdict";

/** A KV namespace holding JSON records by key, counting `get` calls. */
function fakeKv() {
  const values = new Map<string, string>();
  const kv = {
    reads: 0,
    get: async (key: string) => {
      kv.reads += 1;
      return values.get(key) ?? null;
    },
  };
  const put = (clientId: string, record: Record<string, unknown>) =>
    values.set(`client:${clientId}`, JSON.stringify(record));
  return { kv, namespace: kv as unknown as KVNamespace, put };
}

async function activeRecord(clientId: string, status = "active") {
  const key = await clientKey("ES256");
  return { client_id: clientId, status, jwks: { keys: [key.publicJwk] }, scopes: ["read"], audiences: [] };
}

const NOW = 1_800_000_000;

describe("client record cache", () => {
  it("serves a record read less than the TTL ago without reading KV", async () => {
    const { kv, namespace, put } = fakeKv();
    const id = uniqueClientId("cache");
    put(id, await activeRecord(id));
    const first = await loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW });
    const again = await loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW + 4 });
    expect(again).toBe(first);
    expect(kv.reads).toBe(1);
  });

  it("reads KV again once the TTL has passed, and refuses a client disabled meanwhile", async () => {
    const { kv, namespace, put } = fakeKv();
    const id = uniqueClientId("cache");
    put(id, await activeRecord(id));
    await loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW });
    put(id, await activeRecord(id, "disabled"));
    expect(await reasonOf(loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW + 4 }))).toBe("loaded");
    expect(await reasonOf(loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW + 5 }))).toBe("client_disabled");
    expect(kv.reads).toBe(2);
  });

  it("reads KV on every call when the TTL is 0, and ignores what an earlier policy cached", async () => {
    const { kv, namespace, put } = fakeKv();
    const id = uniqueClientId("cache");
    put(id, await activeRecord(id));
    await loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW });
    put(id, await activeRecord(id, "disabled"));
    expect(await reasonOf(loadActiveClient(namespace, id, { ttlSeconds: 0, now: NOW }))).toBe("client_disabled");
    expect(await reasonOf(loadActiveClient(namespace, id))).toBe("client_disabled");
    expect(kv.reads).toBe(3);
  });

  it("never caches a refusal: an unknown or disabled client is read again on every call", async () => {
    const { kv, namespace, put } = fakeKv();
    const unknown = uniqueClientId("cache");
    const disabled = uniqueClientId("cache");
    put(disabled, await activeRecord(disabled, "disabled"));
    for (let i = 0; i < 2; i++) {
      expect(await reasonOf(loadActiveClient(namespace, unknown, { ttlSeconds: 5, now: NOW }))).toBe("client_unknown");
      expect(await reasonOf(loadActiveClient(namespace, disabled, { ttlSeconds: 5, now: NOW }))).toBe(
        "client_disabled",
      );
    }
    expect(kv.reads).toBe(4);
    put(unknown, await activeRecord(unknown));
    expect(await reasonOf(loadActiveClient(namespace, unknown, { ttlSeconds: 5, now: NOW }))).toBe("loaded");
  });

  it(`holds at most ${CLIENT_CACHE_ENTRIES} records, dropping the oldest first`, async () => {
    const { kv, namespace, put } = fakeKv();
    const ids = Array.from({ length: CLIENT_CACHE_ENTRIES + 1 }, () => uniqueClientId("cache"));
    const record = await activeRecord("placeholder");
    for (const id of ids) {
      put(id, { ...record, client_id: id });
      await loadActiveClient(namespace, id, { ttlSeconds: 60, now: NOW });
    }
    const readsAfterFill = kv.reads;
    await loadActiveClient(namespace, ids[ids.length - 1]!, { ttlSeconds: 60, now: NOW });
    expect(kv.reads).toBe(readsAfterFill);
    await loadActiveClient(namespace, ids[0]!, { ttlSeconds: 60, now: NOW });
    expect(kv.reads).toBe(readsAfterFill + 1);
  });
});
