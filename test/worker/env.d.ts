// Types for the in-workerd tests: `env` and `exports` from "cloudflare:workers" are this Worker's. Types only.
import type { Env as WorkerEnv } from "../../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../../src/index");
    }
  }
}
