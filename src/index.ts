// Worker entry point: the HTTP app and the ReplayGuard Durable Object class. Wiring only.
import { createApp } from "./app";

export { ReplayGuard } from "./client-object/replay-guard";

export default createApp() satisfies ExportedHandler<import("./env").Env>;
