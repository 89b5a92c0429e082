// The spent identifiers of one client in its Durable Object's SQLite storage: assertion jtis (`spent_jti`), DPoP
// proof jtis (`spent_dpop_jti`) and revoked access token jtis (`revoked_token`), each kept until a retention time:
// whether one is spent, spending it, and deleting what can no longer be replayed. Synchronous SQL only; the caller
// passes the clock, and decides in one synchronous section so no two requests can both see an identifier as new.

/**
 * The tables, none with a secondary index: each identifier costs one SQLite row written when it is spent and one when
 * the alarm purges it, and rows written are most of a token's Cloudflare bill (docs/cost.md). The purge scans the
 * table, reading each live row once per alarm (rows read cost a thousandth of a row written). Assertion jtis
 * (`spent_jti`) live at most the assertion's lifetime plus the skew; proof jtis DPOP_PROOF_MAX_AGE + 2 x CLOCK_SKEW;
 * revoked access tokens (`revoked_token`, token-revocations.ts) until the token's exp plus the skew, and are few.
 */
export type SpentTable = "spent_jti" | "spent_dpop_jti" | "revoked_token";

export class ReplayStore {
  readonly #sql: SqlStorage;
  readonly #table: SpentTable;

  constructor(sql: SqlStorage, table: SpentTable = "spent_jti") {
    this.#sql = sql;
    this.#table = table;
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID`);
    // Versions before this one kept an expiry index on spent_jti, a second row written per jti at insert and purge.
    if (table === "spent_jti") sql.exec("DROP INDEX IF EXISTS spent_jti_expiry");
  }

  /** Whether `jti` was spent and its row still blocks it (a row past its retention no longer does). */
  isSpent(jti: string, nowMs: number): boolean {
    return (
      this.#sql.exec(`SELECT 1 FROM ${this.#table} WHERE jti = ?1 AND expires_at > ?2`, jti, nowMs).toArray().length > 0
    );
  }

  /**
   * Spends `jti` until `retainUntilMs`. Returns false when a live row already holds it: the WHERE keeps the write
   * itself refusing a live row, a backstop should isSpent ever be moved away from it.
   */
  spend(jti: string, retainUntilMs: number, nowMs: number): boolean {
    const cursor = this.#sql.exec(
      `INSERT INTO ${this.#table} (jti, expires_at) VALUES (?1, ?2)
       ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE ${this.#table}.expires_at <= ?3`,
      jti,
      retainUntilMs,
      nowMs,
    );
    return cursor.rowsWritten > 0;
  }

  /** Deletes the rows whose retention has passed, and returns the earliest remaining expiry (null: none left). */
  purge(nowMs: number): number | null {
    this.#sql.exec(`DELETE FROM ${this.#table} WHERE expires_at <= ?`, nowMs);
    return this.#sql.exec<{ next: number | null }>(`SELECT MIN(expires_at) AS next FROM ${this.#table}`).one().next;
  }
}
