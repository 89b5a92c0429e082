// Replay guard tests: sequential and concurrent reuse of one assertion, jti spent only after every other check,
// per-client scoping, retention, and the alarm purge, against the real SQLite-backed Durable Object.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ClientAuthority } from "../../../src/client-authority/authority";
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

describe("ClientAuthority", () => {
  it("consume reports a jti as fresh once, then as replayed", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard");
    const until = Date.now() + 60_000;
    expect((await guard.consume("j1", until)).outcome).toBe("fresh");
    expect((await guard.consume("j1", until)).outcome).toBe("replayed");
    expect((await guard.consume("j2", until)).outcome).toBe("fresh");
  });

  it("lets a jti be spent again once the row that spent it has passed its retention", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-expired");
    await insertRow(guard, "j", Date.now() - 1); // spent earlier; the alarm has not run yet
    expect((await guard.consume("j", Date.now() + 60_000)).outcome).toBe("fresh");
    expect((await guard.consume("j", Date.now() + 60_000)).outcome).toBe("replayed");
  });

  it("refuses to spend a jti whose retention has already passed by its own clock, and writes no row", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-too-late");
    expect((await guard.consume("late", Date.now() - 1)).outcome).toBe("expired");
    expect((await guard.consume("late", Date.now())).outcome).toBe("expired");
    expect(
      await runInDurableObject(guard, (_: ClientAuthority, state) =>
        state.storage.sql.exec("SELECT jti FROM spent_jti").toArray(),
      ),
    ).toEqual([]);
  });

  it("cannot be made to spend one assertion twice at the end of its life", async () => {
    // The same assertion sent twice around exp + skew: once the first row has expired, the second request's
    // retention (the same exp) has passed too, so it is refused instead of written again.
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-edge");
    const retainUntil = Date.now() + 60_000;
    expect((await guard.consume("edge", retainUntil)).outcome).toBe("fresh");
    await runInDurableObject(guard, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE spent_jti SET expires_at = ? WHERE jti = 'edge'", Date.now() - 1);
    });
    expect((await guard.consume("edge", Date.now() - 1)).outcome).toBe("expired");
  });

  it("refuses a replay before the rate limit, so replays never use up the client's budget", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-replay-budget");
    const until = Date.now() + 60_000;
    const limit = { requests: 2, perSeconds: 3600 };
    expect((await guard.consume("first", until, limit)).outcome).toBe("fresh");
    for (let i = 0; i < 5; i++) expect((await guard.consume("first", until, limit)).outcome).toBe("replayed");
    expect((await guard.consume("second", until, limit)).outcome).toBe("fresh");
    expect((await guard.consume("third", until, limit)).outcome).toBe("rate_limited");
  });

  it("refuses every kid once the whole client is revoked, and serves it again once lifted", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-client-revoked");
    const until = Date.now() + 60_000;
    await guard.setClientRevoked(true);
    expect((await guard.consume("a", until, undefined, "k1")).outcome).toBe("revoked");
    expect((await guard.consume("b", until)).outcome).toBe("revoked");
    await guard.setClientRevoked(false);
    expect((await guard.consume("a", until, undefined, "k1")).outcome).toBe("fresh");
  });

  it("refuses a retired kid only, and writes no row for the refusal", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-key-revoked");
    const until = Date.now() + 60_000;
    await guard.setKeyRevoked("old", true);
    expect((await guard.consume("a", until, undefined, "old")).outcome).toBe("revoked");
    expect((await guard.consume("b", until, undefined, "new")).outcome).toBe("fresh");
    expect((await guard.consume("c", until)).outcome).toBe("fresh");
    expect(await guard.revocations()).toEqual({ client: false, kids: ["old"] });
    const rows = await runInDurableObject(guard, (_: ClientAuthority, state) =>
      state.storage.sql.exec<{ jti: string }>("SELECT jti FROM spent_jti ORDER BY jti").toArray(),
    );
    expect(rows.map((r) => r.jti)).toEqual(["b", "c"]);
  });

  it("schedules an alarm that purges expired rows and keeps live ones", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-purge");
    await insertRow(guard, "old-1", Date.now() - 10);
    await insertRow(guard, "old-2", Date.now() - 5);
    await guard.consume("live", Date.now() + 600_000);
    const alarmSet = await runInDurableObject(guard, (_: ClientAuthority, state) => state.storage.getAlarm());
    expect(alarmSet).not.toBeNull();
    expect(await runDurableObjectAlarm(guard)).toBe(true);
    const rows = await runInDurableObject(guard, (_: ClientAuthority, state) =>
      state.storage.sql.exec<{ jti: string }>("SELECT jti FROM spent_jti ORDER BY jti").toArray(),
    );
    expect(rows.map((r) => r.jti)).toEqual(["live"]);
    const next = await runInDurableObject(guard, (_: ClientAuthority, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + 500_000);
  });

  it("leaves no alarm once the table is empty", async () => {
    const guard = env.CLIENT_AUTHORITY.getByName("unit-guard-empty");
    expect((await guard.consume("gone", Date.now() + 60_000)).outcome).toBe("fresh");
    await runInDurableObject(guard, (_: ClientAuthority, state) => {
      state.storage.sql.exec("UPDATE spent_jti SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(guard)).toBe(true);
    expect(await runInDurableObject(guard, (_: ClientAuthority, state) => state.storage.getAlarm())).toBeNull();
  });
});
