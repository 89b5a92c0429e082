// Keeps the folder tree the architecture (docs/architecture.md): the src/ root holds only wiring, every folder imports
// only the folders below it, and every file opens with its contract comment. Reads source files only.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

/** The wiring files allowed at the src/ root, and why each is wiring. */
const ROOT_FILES = ["index.ts", "app.ts", "env.ts", "context.ts", "config.ts"];
const MAX_ROOT_FILES = 8;

/**
 * What each folder may import (besides itself). Lower layers know nothing of higher ones: lib/ knows nothing of OAuth,
 * protocol/ is the shared vocabulary, the checks (assertion/, registry/, client-authority/, issuer/) use only those, and
 * only the HTTP layers (token/, admin/) and the root wiring combine them. "root:x" is the root file x.ts.
 */
const ALLOWED: Record<string, string[]> = {
  lib: [],
  protocol: [],
  assertion: ["protocol", "lib"],
  dpop: ["protocol", "lib"],
  "resource-server": ["dpop", "protocol", "lib"],
  registry: ["protocol", "lib"],
  // External tokens against a client's federated trusts: the trust rules and the key fetching are the registry's.
  federation: ["registry", "protocol", "lib"],
  "client-authority": ["registry", "protocol", "lib", "root:env"],
  issuer: ["protocol", "lib", "root:config"],
  token: [
    "assertion",
    "federation",
    "dpop",
    "registry",
    "client-authority",
    "issuer",
    "protocol",
    "lib",
    "root:context",
    "root:config",
  ],
  admin: ["registry", "client-authority", "issuer", "protocol", "lib", "root:context"],
  // Revocation and introspection: the caller authenticates with the token endpoint's own steps.
  "issued-tokens": ["token", "client-authority", "issuer", "protocol", "lib", "root:context"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The layer a source file belongs to: its top folder under src/, or "root:<name>" for a root file. */
function layerOf(path: string): string {
  const rel = relative(SRC, path);
  const [top, ...rest] = rel.split("/");
  return rest.length === 0 ? `root:${top!.replace(/\.ts$/, "")}` : top!;
}

function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
    resolve(dirname(path), m[1]!).replace(/(\.ts)?$/, ".ts"),
  );
}

const FILES = sourceFiles(SRC);

describe("the src/ tree", () => {
  it(`keeps at most ${MAX_ROOT_FILES} files at its root, all of them wiring`, () => {
    const root = readdirSync(SRC).filter((name) => name.endsWith(".ts"));
    expect(root.length).toBeLessThanOrEqual(MAX_ROOT_FILES);
    expect(root.sort()).toEqual([...ROOT_FILES].sort());
  });

  it("has a rule for every folder", () => {
    const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
    expect(folders.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(FILES.filter((f) => !layerOf(f).startsWith("root:")).map((f) => [relative(SRC, f), f]))(
    "%s imports only the layers below it",
    (_name, path) => {
      const layer = layerOf(path);
      const outside = importsOf(path)
        .map(layerOf)
        .filter((target) => target !== layer && !ALLOWED[layer]!.includes(target));
      expect(outside).toEqual([]);
    },
  );

  it.each(FILES.map((f) => [relative(SRC, f), f]))("%s opens with a comment saying what it does", (_name, path) => {
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines[0]).toMatch(/^\/\/ \S/);
    expect(lines[1]).toMatch(/^\/\/ \S/);
  });

  it.each(FILES.map((f) => [relative(SRC, f), f]))("%s stays under 250 lines", (_name, path) => {
    expect(readFileSync(path, "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });
});
