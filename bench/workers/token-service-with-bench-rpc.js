// Bench-only entry around the bundled Worker (./index.js, the `wrangler deploy --dry-run` output): the same fetch
// handler, and a ClientAuthority that adds two bench RPCs (bulk pre-fill, row count). `consume` and the alarm are inherited
// unchanged, so the token path measured is the production one. Never deployed.
import tokenService, { ClientAuthority as ProductionClientAuthority } from "./index.js";

export class ClientAuthority extends ProductionClientAuthority {
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
