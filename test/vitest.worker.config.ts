// Vitest configuration for the tests that run inside workerd (test/worker/): the real Worker, with real KV and
// Durable Object bindings from wrangler.toml and its shipped [vars] (CLIENT_CACHE_TTL=5 included: a test that needs
// the cache off says so and passes its own env). A fresh signing key is generated for every run.
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { newSigningKeySet } from "../scripts/lib/signing-keys.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const signingKeys = await newSigningKeySet("ES256");

export const TEST_ISSUER = "https://as.example.test";

export default defineConfig({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ISSUER: TEST_ISSUER,
          SIGNING_KEYS: JSON.stringify(signingKeys),
          DEFAULT_AUDIENCE: "",
          // Replays a fuzz run (test/security/fuzz.test.ts prints the seed of every run).
          FUZZ_SEED: process.env.FUZZ_SEED ?? "",
        },
      },
    }),
  ],
  test: {
    // The audit trail writes one line per request; tests read it through test/worker/audit-capture.ts. Keep it out
    // of the run's output.
    onConsoleLog: (log) => !/"event":"(token_request|admin_request)"/.test(log),
    include: ["test/worker/**/*.test.ts", "test/security/**/*.test.ts"],
    // Audit capture, and a clean slate after every test: storage, isolate caches, fake clocks.
    setupFiles: ["test/worker/setup.ts"],
  },
});
