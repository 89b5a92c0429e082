// ClientAuthority: a SQLite-backed Durable Object, one per client_id, that spends each assertion `jti` exactly once,
// applies the client's optional rate limit, and holds the client's kill switch (a disabled client or retired key,
// set through the admin API, is refused on the next request everywhere, without waiting for KV). Its RPC is atomic: one synchronous SQL statement decides,
// inside the object's single thread, so no two requests can both see a `jti` as new. An alarm deletes rows once
// their assertion can no longer be accepted. It never validates assertions: callers spend a `jti` only after every
// other check has passed.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type Bucket, type RateLimit, takeToken } from "./rate-limit";

export type ConsumeOutcome =
  | { outcome: "fresh" }
  | { outcome: "revoked" }
  | { outcome: "replayed" }
  | { outcome: "expired" }
  | { outcome: "rate_limited"; retryAfterSeconds: number };

/** Seconds added to the earliest expiry before the purge alarm fires, so one alarm sweeps a batch of rows. */
const PURGE_BATCH_DELAY_MS = 5_000;

export class ClientAuthority extends DurableObject<Env> {
  /** Time of the scheduled purge alarm in ms, or null when none is known to be set. */
  private alarmAt: number | null = null;
  /**
   * Rate-limit bucket, in memory: it refills when the object is evicted (it was idle, so the client was under its
   * limit anyway) and also when the object restarts (a deploy, a runtime update), which allows at most one extra
   * burst of `requests` per restart. Keeping it in SQLite would cost a write on every token request.
   */
  private bucket: Bucket | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS spent_jti (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID",
    );
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS spent_jti_expiry ON spent_jti (expires_at)");
    // Kill switch: subject "client" (the whole client) or "kid:<kid>" (one key), set by the admin API.
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS revoked (subject TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL) WITHOUT ROWID",
    );
  }

  /**
   * Spends `jti` until `retainUntilMs`, in this order: kill switch, then a retention already past by this object's
   * clock ("expired": a row that could not outlive the assertion is never written, so an assertion arriving at its
   * very end cannot be spent twice), then an earlier spend ("replayed"), then the rate limit, then the insert.
   * Replays are refused before the rate limit, so whoever holds a spent assertion cannot drain the client's budget.
   * A rate-limited request leaves the `jti` unspent: the client may retry it after `retryAfterSeconds`.
   * Every step is a synchronous SQL statement with no await in between, so the object's single thread makes the
   * whole decision atomic. A row whose retention has passed no longer blocks its `jti` (the alarm may not have run).
   */
  async consume(jti: string, retainUntilMs: number, rateLimit?: RateLimit, kid?: string): Promise<ConsumeOutcome> {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const revoked = sql
      .exec("SELECT 1 FROM revoked WHERE subject = 'client' OR subject = ?1 LIMIT 1", `kid:${kid ?? ""}`)
      .toArray();
    if (revoked.length > 0) return { outcome: "revoked" };
    if (retainUntilMs <= now) return { outcome: "expired" };
    const spent = sql.exec("SELECT 1 FROM spent_jti WHERE jti = ?1 AND expires_at > ?2", jti, now).toArray();
    if (spent.length > 0) return { outcome: "replayed" };
    if (rateLimit) {
      const decision = takeToken(this.bucket, rateLimit, now);
      this.bucket = decision.bucket;
      if (!decision.allowed) return { outcome: "rate_limited", retryAfterSeconds: decision.retryAfterSeconds };
    }
    // The WHERE keeps the insert itself refusing a live row, should the check above ever be moved away from it.
    const cursor = sql.exec(
      `INSERT INTO spent_jti (jti, expires_at) VALUES (?1, ?2)
       ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE spent_jti.expires_at <= ?3`,
      jti,
      retainUntilMs,
      now,
    );
    if (cursor.rowsWritten === 0) return { outcome: "replayed" };
    await this.schedulePurge(retainUntilMs + PURGE_BATCH_DELAY_MS);
    return { outcome: "fresh" };
  }

  /** Kill switch for the whole client: while set, every token request of the client is refused. */
  async setClientRevoked(revoked: boolean): Promise<void> {
    this.setRevoked("client", revoked);
  }

  /** Kill switch for one key of the client, by kid. */
  async setKeyRevoked(kid: string, revoked: boolean): Promise<void> {
    this.setRevoked(`kid:${kid}`, revoked);
  }

  /** What the kill switch currently holds: whether the client is revoked, and which kids. */
  async revocations(): Promise<{ client: boolean; kids: string[] }> {
    const rows = this.ctx.storage.sql
      .exec<{ subject: string }>("SELECT subject FROM revoked ORDER BY subject")
      .toArray();
    return {
      client: rows.some((r) => r.subject === "client"),
      kids: rows.filter((r) => r.subject.startsWith("kid:")).map((r) => r.subject.slice(4)),
    };
  }

  private setRevoked(subject: string, revoked: boolean): void {
    if (revoked) {
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO revoked (subject, revoked_at) VALUES (?, ?)",
        subject,
        Date.now(),
      );
    } else {
      this.ctx.storage.sql.exec("DELETE FROM revoked WHERE subject = ?", subject);
    }
  }

  /** Deletes rows whose retention has passed, then schedules the next purge if rows remain. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.ctx.storage.sql.exec("DELETE FROM spent_jti WHERE expires_at <= ?", Date.now());
    const next = this.ctx.storage.sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM spent_jti")
      .one().next;
    if (next !== null) await this.schedulePurge(next + PURGE_BATCH_DELAY_MS);
  }

  private async schedulePurge(at: number): Promise<void> {
    if (this.alarmAt === null) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
