// Bench-only entry around the bundled Worker (./index.js, the `wrangler deploy --dry-run` output): the same fetch
// handler, and a ClientAuthority that adds bench RPCs (bulk pre-fill, row count, SQLite rows written, calls received).
// `consume`, `tokenStatus`, `revokeToken` and the alarm run the production code; the only additions on that path are
// keeping each cursor the production code made, to read its `rowsWritten`, and counting the calls. Never deployed.
import tokenService, { ClientAuthority as ProductionClientAuthority } from "./index.js";

/**
 * Wraps `exec` on the object's SQL handle (the one object `ctx.storage.sql` returns, which the production constructor
 * keeps) so each cursor is kept while `counting.on` is set, and the rows each statement wrote can be summed.
 */
function countRowsOf(ctx, counting) {
  const sql = ctx.storage.sql;
  const exec = sql.exec;
  try {
    Object.defineProperty(sql, "exec", {
      configurable: true,
      value: (...args) => {
        const cursor = exec.apply(sql, args);
        if (counting.on) counting.cursors.push([args[0], cursor]);
        return cursor;
      },
    });
    counting.wrapped = sql.exec;
  } catch {
    // The runtime refused the wrapper: benchCountRows says so; the object works as in production.
  }
}

/** The RPCs a request of the token, revocation or introspection endpoint makes; counted per object while counting. */
const COUNTED_CALLS = ["consume", "tokenStatus", "revokeToken"];

export class ClientAuthority extends ProductionClientAuthority {
  #counting;
  #calls = {};

  consume(request) {
    this.#called("consume");
    return super.consume(request);
  }

  tokenStatus(query) {
    this.#called("tokenStatus");
    return super.tokenStatus(query);
  }

  revokeToken(request) {
    this.#called("revokeToken");
    return super.revokeToken(request);
  }

  #called(name) {
    if (this.#counting.on) this.#calls[name] = (this.#calls[name] ?? 0) + 1;
  }

  /** Calls received since benchCountRows, by name (read before benchRowsWritten, which stops counting). */
  benchCalls() {
    return Object.fromEntries(COUNTED_CALLS.map((name) => [name, this.#calls[name] ?? 0]));
  }

  constructor(ctx, env) {
    const counting = { on: false, cursors: [], wrapped: undefined };
    countRowsOf(ctx, counting);
    super(ctx, env);
    this.#counting = counting;
  }

  /** Starts counting the SQLite rows written from here on. */
  benchCountRows() {
    if (this.ctx.storage.sql.exec !== this.#counting.wrapped) throw new Error("cannot count SQLite rows here");
    this.#counting.on = true;
    this.#counting.cursors.length = 0;
    this.#calls = {};
  }

  /**
   * SQLite rows written since benchCountRows (cursor.rowsWritten, what is billed), in all and by statement (its first
   * 60 characters: rows, and how many times it wrote), and stops counting.
   */
  benchRowsWritten() {
    const byStatement = {};
    let total = 0;
    for (const [query, cursor] of this.#counting.cursors) {
      if (cursor.rowsWritten === 0) continue;
      const name = String(query).replace(/\s+/g, " ").slice(0, 60);
      const entry = byStatement[name] ?? { rows: 0, statements: 0 };
      entry.rows += cursor.rowsWritten;
      entry.statements += 1;
      byStatement[name] = entry;
      total += cursor.rowsWritten;
    }
    this.#counting.on = false;
    this.#counting.cursors.length = 0;
    return { total, byStatement };
  }

  /** Inserts `count` live rows named `<prefix><i>` in one synchronous batch (one implicit transaction). */
  benchPrefill(prefix, count, retainUntilMs) {
    const sql = this.ctx.storage.sql;
    for (let i = 0; i < count; i++) {
      sql.exec("INSERT OR IGNORE INTO spent_jti (jti, expires_at) VALUES (?1, ?2)", `${prefix}${i}`, retainUntilMs);
    }
    return this.benchRowCount();
  }

  benchRowCount() {
    return this.ctx.storage.sql.exec("SELECT COUNT(*) AS rows FROM spent_jti").one().rows;
  }

  benchAlarmAt() {
    return this.ctx.storage.getAlarm();
  }
}

export default tokenService;
