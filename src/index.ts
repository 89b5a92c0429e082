// Worker entry point: exports the HTTP app (app.ts) as the fetch handler and the per-client Durable Object class
// that wrangler.toml binds as REPLAY_GUARD. Wiring only: no logic of its own.
import { createApp } from "./app";

export { ReplayGuard } from "./client-object/replay-guard";

export default createApp() satisfies ExportedHandler<import("./env").Env>;
