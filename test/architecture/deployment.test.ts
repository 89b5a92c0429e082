// The deployment surface wrangler.toml declares: one public origin (no workers.dev URL, no preview URLs), a minified
// bundle with source maps, and Workers Logs on. Reads wrangler.toml as text (top-level keys come before the first
// table header, as TOML requires); the Worker's own origin rule is tested in test/security/attacks.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const TOML = readFileSync(join(import.meta.dirname, "../../wrangler.toml"), "utf8");
const lines = TOML.split("\n").map((line) => line.trim());
const firstTable = lines.findIndex((line) => line.startsWith("["));

/** The value of a top-level key, as written. */
function topLevel(key: string): string | undefined {
  const line = lines.slice(0, firstTable).find((l) => l.startsWith(`${key} =`) || l.startsWith(`${key}=`));
  return line?.split("=")[1]?.trim();
}

/** The value of `key` inside table `[name]`. */
function inTable(name: string, key: string): string | undefined {
  const start = lines.indexOf(`[${name}]`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith("["));
  const line = lines.slice(start + 1, end < 0 ? undefined : end).find((l) => l.startsWith(`${key} =`));
  return line?.split("=")[1]?.trim();
}

describe("wrangler.toml", () => {
  it("publishes no workers.dev URL and no preview URLs: the issuer's custom domain is the only origin", () => {
    expect({ workers_dev: topLevel("workers_dev"), preview_urls: topLevel("preview_urls") }).toEqual({
      workers_dev: "false",
      preview_urls: "false",
    });
    expect(TOML).toMatch(/^# routes = \[\{ pattern = "[^"]+", custom_domain = true \}\]$/m);
  });

  it("deploys a minified bundle with source maps, and keeps Workers Logs", () => {
    expect({ minify: topLevel("minify"), maps: topLevel("upload_source_maps") }).toEqual({
      minify: "true",
      maps: "true",
    });
    expect(inTable("observability", "enabled")).toBe("true");
  });
});
