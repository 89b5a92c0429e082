// The client's revoked access tokens in its Durable Object's SQLite storage: each revoked token's jti until the
// token's own expiry (RFC 7009), then purged, and the cut-off before which every token issued to the client is
// inactive (`revoke-tokens`, and a removal). Synchronous SQL only; the caller passes the clock. It never sees a token,
// only its jti and times.
import { ReplayStore } from "./replay-store";

export class TokenRevocations {
  readonly #sql: SqlStorage;
  readonly #revoked: ReplayStore;
  /** The cut-off as last read or written (null: none); undefined until read. */
  #cutoff: number | null | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#revoked = new ReplayStore(sql, "revoked_token");
    sql.exec(
      "CREATE TABLE IF NOT EXISTS token_cutoff (id INTEGER PRIMARY KEY CHECK (id = 1), revoked_before INTEGER NOT NULL)",
    );
  }

  isRevoked(jti: string, nowMs: number): boolean {
    return this.#revoked.isSpent(jti, nowMs);
  }

  /** Revokes the token with this jti until `retainUntilMs` (its exp plus the clock skew). Revoking twice is a no-op. */
  revoke(jti: string, retainUntilMs: number, nowMs: number): void {
    this.#revoked.spend(jti, retainUntilMs, nowMs);
  }

  /** Tokens with an `iat` below this (epoch seconds) are inactive; null when there is no cut-off. */
  cutoff(): number | null {
    if (this.#cutoff === undefined) {
      const row = this.#sql
        .exec<{ revoked_before: number }>("SELECT revoked_before FROM token_cutoff WHERE id = 1")
        .toArray()[0];
      this.#cutoff = row ? row.revoked_before : null;
    }
    return this.#cutoff;
  }

  /**
   * Every token issued before now is inactive: the cut-off is the next whole second, since `iat` has whole seconds,
   * so a token issued in the same second as the cut-off (before it or after it) is inactive too. Never moves back.
   */
  revokeAllBefore(nowMs: number): number {
    const before = Math.max(Math.floor(nowMs / 1000) + 1, this.cutoff() ?? 0);
    this.#sql.exec(
      "INSERT INTO token_cutoff (id, revoked_before) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET revoked_before = ?1",
      before,
    );
    this.#cutoff = before;
    return before;
  }

  /** Deletes revocations whose token has expired; returns the earliest remaining expiry (null: none left). */
  purge(nowMs: number): number | null {
    return this.#revoked.purge(nowMs);
  }
}
