// Vitest configuration for the end-to-end suite (test/e2e/): real OAuth client libraries against `npm run dev`.
// Node environment, one file at a time; the global setup starts the shared server and always stops it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root,
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    // Each file talks to wrangler processes, and the machine is shared: never two files at once.
    fileParallelism: false,
    globalSetup: ["test/e2e/support/global-setup.ts"],
    // A test may register a client through the CLI (two wrangler kv calls, about three seconds each).
    testTimeout: 90_000,
    // Starting or restarting `npm run dev` on a busy machine can take a while.
    hookTimeout: 240_000,
  },
});
