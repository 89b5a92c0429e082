// The spent jtis of one client in its Durable Object's SQLite storage: whether a jti is already spent, spending it
// until a retention time, and deleting what can no longer be replayed. Synchronous SQL only; the caller passes the
// clock, and decides in one synchronous section so no two requests can both see a jti as new.

export class ReplayStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec("CREATE TABLE IF NOT EXISTS spent_jti (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID");
    sql.exec("CREATE INDEX IF NOT EXISTS spent_jti_expiry ON spent_jti (expires_at)");
  }

  /** Whether `jti` was spent and its row still blocks it (a row past its retention no longer does). */
  isSpent(jti: string, nowMs: number): boolean {
    return (
      this.#sql.exec("SELECT 1 FROM spent_jti WHERE jti = ?1 AND expires_at > ?2", jti, nowMs).toArray().length > 0
    );
  }

  /**
   * Spends `jti` until `retainUntilMs`. Returns false when a live row already holds it: the WHERE keeps the write
   * itself refusing a live row, a backstop should isSpent ever be moved away from it.
   */
  spend(jti: string, retainUntilMs: number, nowMs: number): boolean {
    const cursor = this.#sql.exec(
      `INSERT INTO spent_jti (jti, expires_at) VALUES (?1, ?2)
       ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE spent_jti.expires_at <= ?3`,
      jti,
      retainUntilMs,
      nowMs,
    );
    return cursor.rowsWritten > 0;
  }

  /** Deletes the rows whose retention has passed, and returns the earliest remaining expiry (null: none left). */
  purge(nowMs: number): number | null {
    this.#sql.exec("DELETE FROM spent_jti WHERE expires_at <= ?", nowMs);
    return this.#sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM spent_jti").one().next;
  }
}
