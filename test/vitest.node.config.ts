// Vitest configuration for the Node-side tests: the CLI (test/cli/) run as a real process against throwaway
// local state, the checks that only read files (test/architecture/, test/mutations/), and the resource-server entry
// imported in Node (test/node/). One file at a time: each CLI test spawns wrangler, and the machine is shared.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root,
  test: {
    include: [
      "test/cli/**/*.test.ts",
      "test/mutations/**/*.test.ts",
      "test/architecture/**/*.test.ts",
      "test/node/**/*.test.ts",
    ],
    environment: "node",
    pool: "forks",
    fileParallelism: false,
    // One wrangler kv call takes about three seconds; a test makes a few.
    testTimeout: 60_000,
    // Starting `npm run dev` on a busy machine can take a while.
    hookTimeout: 180_000,
  },
});
