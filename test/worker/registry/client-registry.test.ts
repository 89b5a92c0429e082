// Unit tests for the per-isolate client record cache of src/registry/client-registry.ts, against a fake KV that
// counts reads. The clock is passed in: nothing sleeps.
import { describe, expect, it } from "vitest";
import { CLIENT_CACHE_ENTRIES, UNKNOWN_CLIENT_CACHE_ENTRIES } from "../../../src/protocol/constants";
import { forgetUnknownClient, loadActiveClient, rememberClient } from "../../../src/registry/client-registry";
import type { ClientRecord } from "../../../src/registry/record";
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

  it("never caches a disabled record: it is read again on every call", async () => {
    const { kv, namespace, put } = fakeKv();
    const disabled = uniqueClientId("cache");
    put(disabled, await activeRecord(disabled, "disabled"));
    for (let i = 0; i < 2; i++) {
      expect(await reasonOf(loadActiveClient(namespace, disabled, { ttlSeconds: 5, now: NOW }))).toBe(
        "client_disabled",
      );
    }
    expect(kv.reads).toBe(2);
    put(disabled, await activeRecord(disabled));
    expect(await reasonOf(loadActiveClient(namespace, disabled, { ttlSeconds: 5, now: NOW }))).toBe("loaded");
  });

  it("remembers an unknown id for the TTL: one KV read, however often it is named, then read again", async () => {
    const { kv, namespace, put } = fakeKv();
    const unknown = uniqueClientId("cache");
    for (const now of [NOW, NOW + 1, NOW + 4]) {
      expect(await reasonOf(loadActiveClient(namespace, unknown, { ttlSeconds: 5, now }))).toBe("client_unknown");
    }
    expect(kv.reads).toBe(1);
    put(unknown, await activeRecord(unknown));
    expect(await reasonOf(loadActiveClient(namespace, unknown, { ttlSeconds: 5, now: NOW + 5 }))).toBe("loaded");
    expect(kv.reads).toBe(2);
  });

  it("forgets an unknown id once the admin API registers it, or its authority returns its record", async () => {
    const { kv, namespace, put } = fakeKv();
    const [byAdmin, byAuthority] = [uniqueClientId("cache"), uniqueClientId("cache")];
    for (const id of [byAdmin, byAuthority]) {
      expect(await reasonOf(loadActiveClient(namespace, id, { ttlSeconds: 5, now: NOW }))).toBe("client_unknown");
      put(id, await activeRecord(id));
    }
    forgetUnknownClient(byAdmin);
    expect(await reasonOf(loadActiveClient(namespace, byAdmin, { ttlSeconds: 5, now: NOW }))).toBe("loaded");
    rememberClient((await activeRecord(byAuthority)) as unknown as ClientRecord, { ttlSeconds: 0, now: NOW });
    expect(await reasonOf(loadActiveClient(namespace, byAuthority, { ttlSeconds: 5, now: NOW }))).toBe("loaded");
    expect(kv.reads).toBe(4);
  });

  it("remembers nothing with a TTL of 0", async () => {
    const { kv, namespace } = fakeKv();
    const unknown = uniqueClientId("cache");
    for (let i = 0; i < 2; i++) {
      expect(await reasonOf(loadActiveClient(namespace, unknown, { ttlSeconds: 0, now: NOW }))).toBe("client_unknown");
    }
    expect(kv.reads).toBe(2);
  });

  it(`keeps unknown ids apart from records: ${UNKNOWN_CLIENT_CACHE_ENTRIES} made-up ids push out no record`, async () => {
    const { kv, namespace, put } = fakeKv();
    const id = uniqueClientId("cache");
    put(id, await activeRecord(id));
    await loadActiveClient(namespace, id, { ttlSeconds: 60, now: NOW });
    for (let i = 0; i < UNKNOWN_CLIENT_CACHE_ENTRIES + 1; i++) {
      await reasonOf(loadActiveClient(namespace, uniqueClientId("made-up"), { ttlSeconds: 60, now: NOW }));
    }
    const reads = kv.reads;
    expect(await reasonOf(loadActiveClient(namespace, id, { ttlSeconds: 60, now: NOW }))).toBe("loaded");
    expect(kv.reads).toBe(reads);
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
