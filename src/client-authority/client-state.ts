// The client's state in its Durable Object's SQLite storage: the authoritative record and its version, the version
// last copied to KV, and the rate-limit bucket; plus the kill switch rows an older version of this object kept, folded
// into the record when it is adopted. Synchronous SQL only: no I/O beyond this object's storage, no clock of its own.
import { LIMITS } from "../protocol/constants";
import type { Bucket } from "./rate-limit";

export interface StoredState {
  clientId: string;
  /** The current record as raw JSON (its version member included), or null once the client was removed. */
  record: Record<string, unknown> | null;
  version: number;
  /** The last version written to the KV replica. */
  replicatedVersion: number;
  /** When the record last changed, ms since the epoch. */
  changedAtMs: number;
}

/**
 * Whether a removed client's record may be adopted from KV again: its removal has reached KV (the replica is deleted)
 * and is older than KV's propagation window, so what KV serves now was written after it.
 */
export function mayReadopt(state: StoredState, nowMs: number): boolean {
  return (
    state.record === null &&
    state.replicatedVersion >= state.version &&
    nowMs - state.changedAtMs >= LIMITS.kvPropagationSeconds * 1000
  );
}

interface StateRow extends Record<string, SqlStorageValue> {
  client_id: string;
  record: string | null;
  version: number;
  replicated_version: number;
  changed_at: number;
}

export class ClientStateStore {
  readonly #sql: SqlStorage;
  /** The row as last read or written: SQLite is the truth, this is the same data without a query per request. */
  #cached: StoredState | null | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS client_state (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         client_id TEXT NOT NULL,
         record TEXT,
         version INTEGER NOT NULL,
         replicated_version INTEGER NOT NULL,
         changed_at INTEGER NOT NULL,
         changed_by TEXT
       )`,
    );
    sql.exec(
      "CREATE TABLE IF NOT EXISTS rate_bucket (id INTEGER PRIMARY KEY CHECK (id = 1), tokens REAL NOT NULL, updated_ms INTEGER NOT NULL)",
    );
  }

  /** The stored state, or null for an object that has never held a record. */
  read(): StoredState | null {
    if (this.#cached === undefined) {
      const row = this.#sql
        .exec<StateRow>(
          "SELECT client_id, record, version, replicated_version, changed_at FROM client_state WHERE id = 1",
        )
        .toArray()[0];
      this.#cached = row
        ? {
            clientId: row.client_id,
            record: row.record === null ? null : (JSON.parse(row.record) as Record<string, unknown>),
            version: row.version,
            replicatedVersion: row.replicated_version,
            changedAtMs: row.changed_at,
          }
        : null;
    }
    return this.#cached;
  }

  /** Stores `record` (null: removed) as the next version and returns that version. */
  write(clientId: string, record: Record<string, unknown> | null, nowMs: number, changedBy: string): number {
    const version = (this.read()?.version ?? 0) + 1;
    const stored = record === null ? null : { ...record, version };
    this.#sql.exec(
      `INSERT INTO client_state (id, client_id, record, version, replicated_version, changed_at, changed_by)
       VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (id) DO UPDATE SET record = ?2, version = ?3, changed_at = ?5, changed_by = ?6`,
      clientId,
      stored === null ? null : JSON.stringify(stored),
      version,
      this.read()?.replicatedVersion ?? 0,
      nowMs,
      changedBy,
    );
    this.#cached = {
      clientId,
      record: stored,
      version,
      replicatedVersion: this.read()?.replicatedVersion ?? 0,
      changedAtMs: nowMs,
    };
    return version;
  }

  /**
   * Takes `record` (adopted from the KV replica) as this object's state, at `version`: its first, or the one after a
   * removal. `replicatedVersion` says which version KV already holds (the same one when the replica is taken as it is).
   */
  adopt(
    clientId: string,
    record: Record<string, unknown>,
    version: number,
    replicatedVersion: number,
    nowMs: number,
  ): StoredState {
    const stored = { ...record, version };
    this.#sql.exec(
      `INSERT INTO client_state (id, client_id, record, version, replicated_version, changed_at, changed_by)
       VALUES (1, ?1, ?2, ?3, ?4, ?5, 'adopted')
       ON CONFLICT (id) DO UPDATE SET record = ?2, version = ?3, replicated_version = ?4, changed_at = ?5,
         changed_by = 'adopted'`,
      clientId,
      JSON.stringify(stored),
      version,
      replicatedVersion,
      nowMs,
    );
    this.#cached = { clientId, record: stored, version, replicatedVersion, changedAtMs: nowMs };
    return this.#cached;
  }

  markReplicated(version: number): void {
    this.#sql.exec("UPDATE client_state SET replicated_version = MAX(replicated_version, ?1) WHERE id = 1", version);
    const state = this.read();
    if (state) this.#cached = { ...state, replicatedVersion: Math.max(state.replicatedVersion, version) };
  }

  /**
   * The kill switch rows an earlier version of this object kept (subject "client" or "kid:<kid>"), which adoption
   * folds into the record; then the table is dropped.
   */
  takeLegacyRevocations(): { client: boolean; kids: string[] } {
    const exists = this.#sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'revoked'")
      .toArray().length;
    if (!exists) return { client: false, kids: [] };
    const subjects = this.#sql
      .exec<{ subject: string }>("SELECT subject FROM revoked")
      .toArray()
      .map((r) => r.subject);
    this.#sql.exec("DROP TABLE revoked");
    return {
      client: subjects.includes("client"),
      kids: subjects.filter((s) => s.startsWith("kid:")).map((s) => s.slice(4)),
    };
  }

  readBucket(): Bucket | undefined {
    const row = this.#sql
      .exec<{ tokens: number; updated_ms: number }>("SELECT tokens, updated_ms FROM rate_bucket WHERE id = 1")
      .toArray()[0];
    return row ? { tokens: row.tokens, updatedMs: row.updated_ms } : undefined;
  }

  writeBucket(bucket: Bucket): void {
    this.#sql.exec(
      "INSERT INTO rate_bucket (id, tokens, updated_ms) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET tokens = ?1, updated_ms = ?2",
      bucket.tokens,
      bucket.updatedMs,
    );
  }

  /** Forgets the bucket (a removed client starts a new one when it is added again). */
  clearBucket(): void {
    this.#sql.exec("DELETE FROM rate_bucket");
  }
}
