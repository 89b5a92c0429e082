// Keeps docs/clients.md honest: each example the suite runs (test/e2e/examples/, docs/examples/openssl-curl.sh)
// must appear in it as a fenced code block, byte for byte, without the file's opening comment. Reads files only.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./support/dev-server";

const EXAMPLE_FILES = [
  ...(await readdir(join(PROJECT_ROOT, "test/e2e/examples")))
    .filter((name) => name.endsWith(".ts"))
    .map((name) => `test/e2e/examples/${name}`),
  "docs/examples/openssl-curl.sh",
];

/** The file without its opening comment block (and shebang): the part a reader copies. */
function exampleCode(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => !line.startsWith("//") && !line.startsWith("#"));
  return lines
    .slice(start)
    .join("\n")
    .replace(/^\n+|\n+$/g, "");
}

/** The contents of every fenced code block in a Markdown text. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)\n```$/gm)].map((match) => match[1]!);
}

describe("docs/clients.md", () => {
  it.each(EXAMPLE_FILES)("reproduces %s verbatim", async (file) => {
    const doc = await readFile(join(PROJECT_ROOT, "docs/clients.md"), "utf8");
    const code = exampleCode(await readFile(join(PROJECT_ROOT, file), "utf8"));
    expect(code.length).toBeGreaterThan(0);
    expect(codeBlocks(doc)).toContain(code);
  });
});
