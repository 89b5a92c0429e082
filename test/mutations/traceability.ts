// Builds the requirement table of docs/rfc-traceability.md from rules.ts, so the table claims exactly what the mutation
// check proves. `npm run docs:traceability` rewrites the table in place; test/mutations/rules.test.ts fails when the
// file and this output differ. Reads and writes that one file only.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REQUIREMENTS } from "./rules";
import { PROJECT_ROOT } from "./vitest-run";

export const TRACEABILITY_DOC = join(PROJECT_ROOT, "docs/rfc-traceability.md");
const BEGIN = "<!-- requirement table: generated from test/mutations/rules.ts by `npm run docs:traceability` -->";
const END = "<!-- end of generated table -->";

/** "test/security/attacks.test.ts › rejects x" as "security/attacks › rejects x". */
function shortTest(reference: string): string {
  const at = reference.indexOf(" › ");
  const file = reference
    .slice(0, at)
    .replace(/^test\/(worker\/)?/, "")
    .replace(/\.test\.ts$/, "");
  return `${file} › ${reference.slice(at + 3)}`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The table, between its markers. */
export function traceabilityTable(): string {
  const rows = REQUIREMENTS.map((requirement) => {
    const files = [...new Set(requirement.rules.map((rule) => `\`${rule.file.replace(/^src\//, "")}\``))];
    const ids = requirement.rules.map((rule) => `\`${rule.id}\``);
    const tests = [...new Set(requirement.rules.flatMap((rule) => rule.tests))].map(shortTest);
    return `| ${cell(requirement.requirement)} | ${cell(requirement.source)} | ${files.join(", ")} | ${ids.join(", ")} | ${tests.map(cell).join("; ")} |`;
  });
  return [
    BEGIN,
    "| Requirement | Source | Enforced in (`src/`) | Mutation rules | Tests that fail without it |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    END,
  ].join("\n");
}

/** The document with its generated table replaced by the current one. */
export function withCurrentTable(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${TRACEABILITY_DOC} has no generated table markers`);
  return doc.slice(0, start) + traceabilityTable() + doc.slice(end + END.length);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = readFileSync(TRACEABILITY_DOC, "utf8");
  const next = withCurrentTable(doc);
  if (next !== doc) writeFileSync(TRACEABILITY_DOC, next);
  console.log(next === doc ? "docs/rfc-traceability.md is current" : "docs/rfc-traceability.md rewritten");
}
