// Unit tests for MemoryProofReplayStore, the resource server's default proof jti store: a jti is spent once while its
// retention lasts and free again after; a store full of live jtis refuses rather than forget one. Frozen clock; no I/O.
import { describe, expect, it } from "vitest";
import { MemoryProofReplayStore } from "../../../src/resource-server";

describe("MemoryProofReplayStore", () => {
  it("spends a jti once while its retention lasts, and again once it has passed", async () => {
    let now = 1_000;
    const store = new MemoryProofReplayStore({ now: () => now });
    expect(await store.spend("a", 2_000)).toBe(true);
    expect(await store.spend("a", 2_000)).toBe(false);
    now = 2_000;
    expect(await store.spend("a", 3_000)).toBe(true);
  });

  it("rejects when full of live jtis, rather than forget one", async () => {
    const store = new MemoryProofReplayStore({ capacity: 2, now: () => 1_000 });
    await store.spend("a", 5_000);
    await store.spend("b", 5_000);
    await expect(store.spend("c", 5_000)).rejects.toThrow(/full/);
    expect(await store.spend("a", 5_000)).toBe(false);
  });

  it("makes room from jtis past their retention", async () => {
    let now = 1_000;
    const store = new MemoryProofReplayStore({ capacity: 2, now: () => now });
    await store.spend("a", 2_000);
    await store.spend("b", 9_000);
    now = 3_000;
    expect(await store.spend("c", 9_000)).toBe(true);
    expect(store.size).toBe(2);
    expect(await store.spend("b", 9_000)).toBe(false);
  });

  it("refuses a capacity below 1", () => {
    expect(() => new MemoryProofReplayStore({ capacity: 0 })).toThrow(/capacity/);
  });
});
