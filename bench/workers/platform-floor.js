// Bench-only Worker: the platform floor of a token request, i.e. read the body, one KV read, one Durable Object
// SQLite insert, a JSON response of token size. No crypto, no validation, no logging. Never deployed.
import { DurableObject } from "cloudflare:workers";

/** Same table as src/client-authority/replay-store.ts (no secondary index), so the insert writes what it writes. */
export class FloorJtiStore extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS spent_jti (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID",
    );
  }

  insert(jti, expiresAt) {
    return (
      this.ctx.storage.sql.exec("INSERT INTO spent_jti (jti, expires_at) VALUES (?1, ?2)", jti, expiresAt).rowsWritten >
      0
    );
  }
}

/** Roughly the size of a real ES256 access token, so both responses cost the same to send. */
const TOKEN_SIZED_VALUE = "x".repeat(560);

export default {
  async fetch(request, env) {
    await request.text();
    const url = new URL(request.url);
    // `?spread=N`: each request reads one of N client records (from the large registry) and writes to a fresh object,
    // as traffic from N clients does.
    const spread = Number(url.searchParams.get("spread") ?? "0");
    const record =
      spread > 0
        ? await env.SPREAD_CLIENTS.get(
            `client:${env.SPREAD_CLIENT_PREFIX}${Math.floor(Math.random() * spread)}`,
            "text",
          )
        : await env.CLIENTS.get(env.FLOOR_CLIENT_KEY, "text");
    if (record === null) return Response.json({ error: "floor client missing" }, { status: 500 });
    const storeName = spread > 0 ? crypto.randomUUID() : "floor";
    const fresh = await env.FLOOR_STORE.getByName(storeName).insert(crypto.randomUUID(), Date.now() + 330_000);
    if (!fresh) return Response.json({ error: "duplicate" }, { status: 500 });
    return Response.json(
      { access_token: TOKEN_SIZED_VALUE, token_type: "Bearer", expires_in: 600 },
      { headers: { "Cache-Control": "no-store", Pragma: "no-cache" } },
    );
  },
};
