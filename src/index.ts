// Worker entry point: exports the HTTP app (app.ts) as the fetch handler and the per-client Durable Object class
// that wrangler.toml binds as CLIENT_AUTHORITY. Wiring only: no logic of its own.
import { createApp } from "./app";

export { ClientAuthority } from "./client-authority/authority";

export default createApp() satisfies ExportedHandler<import("./env").Env>;
