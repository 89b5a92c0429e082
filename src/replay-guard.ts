// ReplayGuard: a SQLite-backed Durable Object, one per client_id, that spends each assertion `jti` exactly once.
// Its single RPC is atomic: one synchronous SQL statement decides, inside the object's single thread, so no
// two requests can both see a `jti` as new. An alarm deletes rows once their assertion can no longer be accepted.
// It never validates assertions: callers spend a `jti` only after every other check has passed.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env";

/** Seconds added to the earliest expiry before the purge alarm fires, so one alarm sweeps a batch of rows. */
const PURGE_BATCH_DELAY_MS = 5_000;

export class ReplayGuard extends DurableObject<Env> {
  /** Time of the scheduled purge alarm in ms, or null when none is known to be set. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS spent_jti (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID",
    );
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS spent_jti_expiry ON spent_jti (expires_at)");
  }

  /**
   * Records `jti` as spent until `retainUntilMs` and returns true when it was not already spent.
   * A row whose retention has passed no longer blocks its `jti` (the alarm may simply not have run yet).
   */
  async consume(jti: string, retainUntilMs: number): Promise<boolean> {
    const now = Date.now();
    const cursor = this.ctx.storage.sql.exec(
      `INSERT INTO spent_jti (jti, expires_at) VALUES (?1, ?2)
       ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE spent_jti.expires_at <= ?3`,
      jti,
      retainUntilMs,
      now,
    );
    const fresh = cursor.rowsWritten > 0;
    if (fresh) await this.schedulePurge(retainUntilMs + PURGE_BATCH_DELAY_MS);
    return fresh;
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
