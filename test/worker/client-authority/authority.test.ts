// The client's authority, the real SQLite-backed Durable Object: jti spending (sequential and concurrent reuse, only
// after every other check, per client, retention, purge), its record (adoption from KV, versions, the KV replica,
// the kill switch), and a rate limit that survives the object being rebuilt on the same storage.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ClientAuthority } from "../../../src/client-authority/authority";
import type { ClientView } from "../../../src/client-authority/contract";
import { ReplayStore } from "../../../src/client-authority/replay-store";
import { LIMITS } from "../../../src/protocol/constants";
import type { ClientRecord } from "../../../src/registry/record";
import {
  auditLog,
  buildAssertion,
  expectIssued,
  invalidClient,
  nowSeconds,
  postToken,
  refusalOf,
  registerClient,
  tokenForm,
} from "../support";

/** Writes a spent-jti row directly, as an earlier consume would have, e.g. one already past its retention. */
function insertRow(guard: DurableObjectStub<ClientAuthority>, jti: string, expiresAt: number) {
  return runInDurableObject(guard, (_: ClientAuthority, state) => {
    state.storage.sql.exec("INSERT INTO spent_jti (jti, expires_at) VALUES (?, ?)", jti, expiresAt);
  });
}

function rowsOf(clientId: string) {
  return runInDurableObject(env.CLIENT_AUTHORITY.getByName(clientId), (_: ClientAuthority, state) =>
    state.storage.sql.exec<{ jti: string; expires_at: number }>("SELECT jti, expires_at FROM spent_jti").toArray(),
  );
}

describe("replay of one assertion", () => {
  it("rejects the second use of an assertion as a replay", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    await expectIssued(await postToken(tokenForm(assertion)));
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("replayed"));
  });

  it("rejects a new assertion that reuses a spent jti", async () => {
    const client = await registerClient();
    const first = await buildAssertion(client, { claims: { jti: "same-jti" } });
    const second = await buildAssertion(client, { claims: { jti: "same-jti", exp: nowSeconds() + 90 } });
    expect(first).not.toBe(second);
    await expectIssued(await postToken(tokenForm(first)));
    expect(await refusalOf(await postToken(tokenForm(second)))).toEqual(invalidClient("replayed"));
  });

  it("issues exactly one token when 20 requests race with one assertion", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const responses = await Promise.all(Array.from({ length: 20 }, () => postToken(tokenForm(assertion))));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 401)).toHaveLength(19);
    expect(
      auditLog()
        .map((line) => line.reason ?? line.outcome)
        .sort(),
    ).toEqual(["issued", ...Array(19).fill("replayed")]);
    expect(await rowsOf(client.clientId)).toHaveLength(1);
  });

  it("does not spend the jti when the signature fails", async () => {
    const client = await registerClient();
    const valid = await buildAssertion(client, { claims: { jti: "j-sig" } });
    const [h, p] = valid.split(".");
    const forged = `${h}.${p}.${"A".repeat(86)}`;
    expect(await refusalOf(await postToken(tokenForm(forged)))).toEqual(invalidClient("signature_invalid"));
    expect(await rowsOf(client.clientId)).toHaveLength(0);
    await expectIssued(await postToken(tokenForm(valid)));
  });

  it("does not spend the jti when the audience is wrong", async () => {
    const client = await registerClient();
    const wrong = await buildAssertion(client, { claims: { jti: "j-aud", aud: "https://elsewhere.example" } });
    expect(await refusalOf(await postToken(tokenForm(wrong)))).toEqual(invalidClient("aud_invalid"));
    expect(await rowsOf(client.clientId)).toHaveLength(0);
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { claims: { jti: "j-aud" } }))));
  });

  it("does not spend the jti when the grant is refused (invalid_target)", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    expect(await refusalOf(await postToken(tokenForm(assertion, { resource: "https://not-allowed.example" })))).toEqual(
      {
        status: 400,
        error: "invalid_target",
        reason: "resource_not_allowed",
      },
    );
    expect(await rowsOf(client.clientId)).toHaveLength(0);
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("keeps jti spaces of different clients apart", async () => {
    const a = await registerClient();
    const b = await registerClient();
    await expectIssued(await postToken(tokenForm(await buildAssertion(a, { claims: { jti: "shared" } }))));
    await expectIssued(await postToken(tokenForm(await buildAssertion(b, { claims: { jti: "shared" } }))));
  });

  it("retains a spent jti until the assertion's exp plus the clock skew", async () => {
    const client = await registerClient();
    const exp = nowSeconds() + 60;
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { claims: { exp } }))));
    const [row] = await rowsOf(client.clientId);
    expect(row!.expires_at).toBe((exp + 30) * 1000);
  });
});

/** A client registered in KV (the bootstrap path), its authority, and a consume call for it at the adopted version. */
async function authorityOf(record: Partial<ClientRecord> = {}) {
  const client = await registerClient({ record, bootstrap: true });
  const stub = env.CLIENT_AUTHORITY.getByName(client.clientId);
  const view = (await stub.read(client.clientId)) as ClientView | null;
  const spend = (
    jti: string,
    retainUntilMs = Date.now() + 60_000,
    keyId = client.key.kid,
    recordVersion = view!.version,
  ) => stub.consume({ clientId: client.clientId, jti, retainUntilMs, keyId, recordVersion });
  return { client, stub, spend, version: view!.version };
}

const OPERATOR = { clientId: "test-operator" };

describe("ClientAuthority: spending jtis", () => {
  it("reports a jti as fresh once, then as replayed", async () => {
    const { spend } = await authorityOf();
    expect((await spend("j1")).outcome).toBe("fresh");
    expect((await spend("j1")).outcome).toBe("replayed");
    expect((await spend("j2")).outcome).toBe("fresh");
  });

  it("lets a jti be spent again once the row that spent it has passed its retention", async () => {
    const { stub, spend } = await authorityOf();
    await insertRow(stub, "j", Date.now() - 1); // spent earlier; the alarm has not run yet
    expect((await spend("j")).outcome).toBe("fresh");
    expect((await spend("j")).outcome).toBe("replayed");
  });

  it("refuses to spend a jti whose retention has already passed by its own clock, and writes no row", async () => {
    const { client, spend } = await authorityOf();
    expect((await spend("late", Date.now() - 1)).outcome).toBe("expired");
    expect((await spend("late", Date.now())).outcome).toBe("expired");
    expect(await rowsOf(client.clientId)).toEqual([]);
  });

  it("cannot be made to spend one assertion twice at the end of its life", async () => {
    // The same assertion sent twice around exp + skew: once the first row has expired, the second request's
    // retention (the same exp) has passed too, so it is refused instead of written again.
    const { stub, spend } = await authorityOf();
    expect((await spend("edge")).outcome).toBe("fresh");
    await runInDurableObject(stub, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE spent_jti SET expires_at = ? WHERE jti = 'edge'", Date.now() - 1);
    });
    expect((await spend("edge", Date.now() - 1)).outcome).toBe("expired");
  });

  it("refuses a replay before the rate limit, so replays never use up the client's budget", async () => {
    const { spend } = await authorityOf({ rate_limit: { requests: 2, per_seconds: 3600 } });
    expect((await spend("first")).outcome).toBe("fresh");
    for (let i = 0; i < 5; i++) expect((await spend("first")).outcome).toBe("replayed");
    expect((await spend("second")).outcome).toBe("fresh");
    expect((await spend("third")).outcome).toBe("rate_limited");
  });

  it("schedules an alarm that purges expired rows and keeps live ones", async () => {
    const { client, stub, spend } = await authorityOf();
    await insertRow(stub, "old-1", Date.now() - 10);
    await insertRow(stub, "old-2", Date.now() - 5);
    await spend("live", Date.now() + 600_000);
    const alarmSet = await runInDurableObject(stub, (_: ClientAuthority, state) => state.storage.getAlarm());
    expect(alarmSet).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rowsOf(client.clientId)).map((r) => r.jti)).toEqual(["live"]);
    const next = await runInDurableObject(stub, (_: ClientAuthority, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + 500_000);
  });

  it("writes one SQLite row to spend a jti and one to purge it, and drops the expiry index older versions made", async () => {
    const { stub } = await authorityOf();
    const measured = await runInDurableObject(stub, (_: ClientAuthority, state) => {
      const sql = state.storage.sql;
      // Storage as a version with the expiry index left it; then this version's store is built on it.
      sql.exec("CREATE INDEX IF NOT EXISTS spent_jti_expiry ON spent_jti (expires_at)");
      sql.exec("INSERT INTO spent_jti (jti, expires_at) VALUES ('before-upgrade', ?)", Date.now() + 60_000);
      let written = 0;
      const counting = {
        exec: (query: string, ...bindings: unknown[]) => {
          const cursor = sql.exec(query, ...bindings);
          written += cursor.rowsWritten;
          return cursor;
        },
      } as unknown as SqlStorage;
      const store = new ReplayStore(counting);
      const now = Date.now();
      const earlierStillSpent = store.isSpent("before-upgrade", now);
      const beforeSpend = written;
      store.spend("counted", now + 1_000, now);
      const spendRows = written - beforeSpend;
      const beforePurge = written;
      store.purge(now + 1_000);
      const purgeRows = written - beforePurge;
      const indexes = sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spent_jti' AND sql IS NOT NULL")
        .toArray();
      return { earlierStillSpent, spendRows, purgeRows, indexes };
    });
    expect(measured).toEqual({ earlierStillSpent: true, spendRows: 1, purgeRows: 1, indexes: [] });
  });

  it("leaves no alarm once the table is empty and KV holds the record", async () => {
    const { stub, spend } = await authorityOf();
    expect((await spend("gone")).outcome).toBe("fresh");
    await runInDurableObject(stub, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE spent_jti SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_: ClientAuthority, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe("ClientAuthority: DPoP proof jtis", () => {
  /** Spends assertion jti `jti` with a DPoP proof whose jti is `proofJti`, kept until `proofUntilMs`. */
  async function spendWithProof(jti: string, proofJti: string, proofUntilMs = Date.now() + 60_000) {
    const { client, stub, version } = await authorityOf();
    const spend = (a: string, p: string, until = proofUntilMs) =>
      stub.consume({
        clientId: client.clientId,
        jti: a,
        retainUntilMs: Date.now() + 60_000,
        keyId: client.key.kid,
        recordVersion: version,
        proof: { jti: p, retainUntilMs: until },
      });
    return { first: await spend(jti, proofJti), spend, stub, client };
  }
  const proofRows = (stub: DurableObjectStub<ClientAuthority>) =>
    runInDurableObject(stub, (_: ClientAuthority, state) =>
      state.storage.sql.exec<{ jti: string }>("SELECT jti FROM spent_dpop_jti").toArray(),
    );

  it("spends the proof's jti in the same call as the assertion's, and refuses it again with another assertion", async () => {
    const { first, spend, stub, client } = await spendWithProof("a1", "p1");
    expect(first.outcome).toBe("fresh");
    expect((await spend("a2", "p1")).outcome).toBe("proof_replayed");
    expect((await proofRows(stub)).map((r) => r.jti)).toEqual(["p1"]);
    // The refused request spent nothing: its assertion jti is still free.
    expect((await rowsOf(client.clientId)).map((r) => r.jti)).toEqual(["a1"]);
  });

  it("refuses a request without a proof when its record binds the client to DPoP, and spends nothing", async () => {
    const { client, stub, version } = await authorityOf({ dpop_bound_access_tokens: true });
    const request = {
      clientId: client.clientId,
      jti: "a1",
      retainUntilMs: Date.now() + 60_000,
      keyId: client.key.kid,
      recordVersion: version,
    };
    expect((await stub.consume(request)).outcome).toBe("proof_required");
    expect(await rowsOf(client.clientId)).toEqual([]);
    expect((await stub.consume({ ...request, proof: { jti: "p1", retainUntilMs: Date.now() + 60_000 } })).outcome).toBe(
      "fresh",
    );
  });

  it("keeps proof jtis apart from assertion jtis: the same string may be both", async () => {
    const { first, spend } = await spendWithProof("same", "same");
    expect(first.outcome).toBe("fresh");
    expect((await spend("other", "other")).outcome).toBe("fresh");
  });

  it("refuses a proof whose retention has already passed by its own clock, and writes nothing", async () => {
    const { first, stub, client } = await spendWithProof("a1", "p1", Date.now() - 1);
    expect(first.outcome).toBe("proof_expired");
    expect(await proofRows(stub)).toEqual([]);
    expect(await rowsOf(client.clientId)).toEqual([]);
  });

  it("purges proof jtis past their retention from its alarm", async () => {
    const { stub } = await spendWithProof("a1", "p1");
    await runInDurableObject(stub, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE spent_dpop_jti SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await proofRows(stub)).toEqual([]);
  });
});

describe("ClientAuthority: the record", () => {
  it("adopts the KV record of a client it has never held, as version 1, and writes the version back to KV", async () => {
    const { client, version } = await authorityOf();
    expect(version).toBe(1);
    await vi.waitFor(async () => {
      const { value, metadata } = await env.CLIENTS.getWithMetadata(`client:${client.clientId}`, "json");
      expect({ version: (value as { version?: number }).version, metadata }).toEqual({
        version: 1,
        metadata: { status: "active", version: 1 },
      });
    });
  });

  it("answers unknown for a client KV does not hold, and adopts nothing", async () => {
    const stub = env.CLIENT_AUTHORITY.getByName("never-registered");
    expect(await stub.read("never-registered")).toBeNull();
    const outcome = await stub.consume({
      clientId: "never-registered",
      jti: "j",
      retainUntilMs: Date.now() + 60_000,
      keyId: "k",
      recordVersion: 0,
    });
    expect(outcome).toEqual({ outcome: "unknown" });
  });

  it("answers stale, with its own record, to a request made with another version, and spends nothing", async () => {
    const { client, spend, version } = await authorityOf();
    const outcome = await spend("j", undefined, undefined, version - 1);
    expect(outcome).toMatchObject({ outcome: "stale", record: { client_id: client.clientId, version } });
    expect(await rowsOf(client.clientId)).toEqual([]);
  });

  it("folds the kill switch an older version of the object kept into the record it adopts", async () => {
    const client = await registerClient({ bootstrap: true });
    const stub = env.CLIENT_AUTHORITY.getByName(client.clientId);
    await runInDurableObject(stub, (_: ClientAuthority, state) => {
      state.storage.sql.exec("CREATE TABLE revoked (subject TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL)");
      state.storage.sql.exec("INSERT INTO revoked VALUES ('client', 1), ('kid:old', 1)");
    });
    const view = (await stub.read(client.clientId)) as ClientView | null;
    expect(view!.record).toMatchObject({ status: "disabled", retired_kids: ["old"], version: 1 });
  });

  it("refuses a disabled client and a retired kid, writing nothing for either refusal", async () => {
    const { client, stub, spend } = await authorityOf();
    await stub.change(client.clientId, { kind: "status", status: "disabled" }, undefined, OPERATOR);
    expect((await spend("a", undefined, undefined, 2)).outcome).toBe("disabled");
    await stub.change(client.clientId, { kind: "status", status: "active" }, undefined, OPERATOR);
    await stub.change(client.clientId, { kind: "patch", patch: { retired_kids: ["other"] } }, undefined, OPERATOR);
    expect((await spend("b", undefined, "other", 4)).outcome).toBe("key_retired");
    expect((await spend("c", undefined, client.key.kid, 4)).outcome).toBe("fresh");
    expect((await rowsOf(client.clientId)).map((r) => r.jti)).toEqual(["c"]);
  });

  it("refuses a change that names another version, and applies one that names the current one", async () => {
    const { client, stub, version } = await authorityOf();
    const stale = await stub.change(client.clientId, { kind: "patch", patch: { name: "a" } }, version + 1, OPERATOR);
    expect(stale).toMatchObject({ ok: false, refusal: "version_mismatch", version });
    const done = await stub.change(client.clientId, { kind: "patch", patch: { name: "a" } }, version, OPERATOR);
    expect(done).toMatchObject({ ok: true, version: version + 1, versionBefore: version, replicated: true });
    expect(JSON.parse((await env.CLIENTS.get(`client:${client.clientId}`))!)).toMatchObject({ name: "a", version: 2 });
  });

  it("keeps the change it committed when KV refuses the replica, and writes it from its alarm", async () => {
    const { client, stub, version } = await authorityOf();
    vi.spyOn(env.CLIENTS, "put").mockRejectedValueOnce(new Error("KV PUT failed: 503"));
    const result = await stub.change(client.clientId, { kind: "status", status: "disabled" }, undefined, OPERATOR);
    expect(result).toMatchObject({ ok: true, version: version + 1, replicated: false });
    expect(((await stub.read(client.clientId)) as unknown as ClientView).record).toMatchObject({ status: "disabled" });
    expect(JSON.parse((await env.CLIENTS.get(`client:${client.clientId}`))!).status).toBe("active");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(JSON.parse((await env.CLIENTS.get(`client:${client.clientId}`))!)).toMatchObject({
      status: "disabled",
      version: version + 1,
    });
  });

  it("keeps its record, version and spent jtis when rebuilt on the same storage, and never re-adopts KV's older copy", async () => {
    const { client, stub, spend, version } = await authorityOf();
    expect((await spend("spent")).outcome).toBe("fresh");
    await stub.change(client.clientId, { kind: "status", status: "disabled" }, undefined, OPERATOR);
    await stub.change(client.clientId, { kind: "status", status: "active" }, undefined, OPERATOR);
    await stub.change(client.clientId, { kind: "patch", patch: { retired_kids: ["old"] } }, undefined, OPERATOR);
    await stub.change(client.clientId, { kind: "status", status: "disabled" }, undefined, OPERATOR);
    // KV serves the record as it was before any change (a stale read), and a new instance on the same storage has
    // none of the first one's memory: what eviction, hibernation or a deploy leaves.
    await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify(client.record));
    const rebuilt = await runInDurableObject(stub, async (_: ClientAuthority, state) => {
      const fresh = new ClientAuthority(state, env);
      const consume = (jti: string, keyId: string) =>
        fresh.consume({
          clientId: client.clientId,
          jti,
          retainUntilMs: Date.now() + 60_000,
          keyId,
          recordVersion: version + 4,
        });
      return {
        view: await fresh.read(client.clientId),
        disabled: (await consume("new", client.key.kid)).outcome,
      };
    });
    expect(rebuilt.view).toMatchObject({ version: version + 4, record: { status: "disabled", retired_kids: ["old"] } });
    expect(rebuilt.disabled).toBe("disabled");
    await stub.change(client.clientId, { kind: "status", status: "active" }, undefined, OPERATOR);
    expect((await spend("spent", undefined, undefined, version + 5)).outcome).toBe("replayed");
    expect((await spend("other", undefined, "old", version + 5)).outcome).toBe("key_retired");
  });

  it("removes a client: KV loses the record, a new one starts at the next version with a new budget, old jtis stay spent", async () => {
    const { client, stub, spend, version } = await authorityOf({ rate_limit: { requests: 1, per_seconds: 3600 } });
    expect((await spend("old")).outcome).toBe("fresh");
    const removed = await stub.change(client.clientId, { kind: "delete" }, undefined, OPERATOR);
    expect(removed).toMatchObject({ ok: true, record: null, version: version + 1 });
    expect(await env.CLIENTS.get(`client:${client.clientId}`)).toBeNull();
    expect((await spend("new", undefined, undefined, version + 1)).outcome).toBe("unknown");
    const created = await stub.change(
      client.clientId,
      { kind: "create", record: client.record as unknown as Record<string, unknown> },
      undefined,
      OPERATOR,
    );
    expect(created).toMatchObject({ ok: true, version: version + 2 });
    expect((await spend("old", undefined, undefined, version + 2)).outcome).toBe("replayed");
    expect((await spend("new", undefined, undefined, version + 2)).outcome).toBe("fresh");
  });
});

describe("ClientAuthority: a client removed, then registered again through the bootstrap path", () => {
  /** Removes the client through its authority and lets `agoMs` pass since, as seen by a rebuilt object. */
  async function removed(agoMs: number) {
    const { client, stub, version } = await authorityOf();
    await stub.change(client.clientId, { kind: "delete" }, undefined, OPERATOR);
    await runInDurableObject(stub, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE client_state SET changed_at = changed_at - ?", agoMs);
    });
    const consume = (jti: string) =>
      runInDurableObject(stub, (_: ClientAuthority, state) =>
        new ClientAuthority(state, env).consume({
          clientId: client.clientId,
          jti,
          retainUntilMs: Date.now() + 60_000,
          keyId: client.key.kid,
          recordVersion: 0,
        }),
      );
    return { client, stub, version, consume };
  }
  const windowMs = LIMITS.kvPropagationSeconds * 1000;

  it("adopts a record the bootstrap path wrote once KV's propagation window has passed since the removal", async () => {
    const { client, stub, version, consume } = await removed(windowMs + 1_000);
    await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify({ ...client.record, name: "again" }));
    expect(await consume("a")).toMatchObject({ outcome: "stale", record: { version: version + 2 } });
    // Read from SQLite: the first instance's memory still holds the removal (on Cloudflare only one instance runs).
    const row = await runInDurableObject(stub, (_: ClientAuthority, state) =>
      state.storage.sql.exec<{ record: string; version: number }>("SELECT record, version FROM client_state").one(),
    );
    expect(row.version).toBe(version + 2);
    expect(JSON.parse(row.record)).toMatchObject({ name: "again", version: version + 2 });
  });

  it("never adopts KV's copy within the window, where a stale read of the removed record may still be served", async () => {
    const { client, consume } = await removed(windowMs - 5_000);
    await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify(client.record));
    expect(await consume("a")).toMatchObject({ outcome: "unknown" });
  });

  it("never adopts a record with a version over a removal: that is its own replica from before", async () => {
    const { client, version, consume } = await removed(windowMs + 1_000);
    await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify({ ...client.record, version }));
    expect(await consume("a")).toMatchObject({ outcome: "unknown" });
  });
});

describe("ClientAuthority: the rate limit", () => {
  it("still refuses over the limit when the object is rebuilt on the same storage (eviction, a deploy)", async () => {
    const { client, stub, spend, version } = await authorityOf({ rate_limit: { requests: 2, per_seconds: 3600 } });
    expect((await spend("a")).outcome).toBe("fresh");
    expect((await spend("b")).outcome).toBe("fresh");
    // A new instance on the same storage has none of the first one's memory: what hibernation does.
    const outcome = await runInDurableObject(stub, (_: ClientAuthority, state) =>
      new ClientAuthority(state, env).consume({
        clientId: client.clientId,
        jti: "c",
        retainUntilMs: Date.now() + 60_000,
        keyId: client.key.kid,
        recordVersion: version,
      }),
    );
    expect(outcome).toMatchObject({ outcome: "rate_limited" });
  });

  it("writes nothing for a request it refuses over the limit", async () => {
    const { stub, spend } = await authorityOf({ rate_limit: { requests: 1, per_seconds: 3600 } });
    expect((await spend("a")).outcome).toBe("fresh");
    const before = await runInDurableObject(stub, (_: ClientAuthority, state) =>
      state.storage.sql.exec("SELECT tokens, updated_ms FROM rate_bucket").toArray(),
    );
    expect((await spend("b")).outcome).toBe("rate_limited");
    const after = await runInDurableObject(stub, (_: ClientAuthority, state) =>
      state.storage.sql.exec("SELECT tokens, updated_ms FROM rate_bucket").toArray(),
    );
    expect(after).toEqual(before);
  });
});
