// Cheap checks of the mutation rules that run with every `npm test` (the mutation check itself runs in CI): each rule's
// text occurs exactly once in its file, each names tests in files that exist, ids are unique, and
// docs/rfc-traceability.md holds the table generated from the rules. Reads files only.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "./rules";
import { TRACEABILITY_DOC, withCurrentTable } from "./traceability";
import { isAssertionFailure } from "./vitest-run";

const ROOT = join(import.meta.dirname, "../..");

describe("mutation rules", () => {
  it("have unique ids", () => {
    const ids = RULES.map((rule) => rule.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))(
    "%s: its text occurs exactly once in its file",
    (_id, rule) => {
      const source = readFileSync(join(ROOT, rule.file), "utf8");
      expect(source.split(rule.find).length - 1).toBe(1);
      expect(rule.replace).not.toBe(rule.find);
    },
  );

  it.each(RULES.map((rule) => [rule.id, rule] as const))(
    "%s: names at least one test, in files that exist",
    (_id, rule) => {
      expect(rule.tests.length).toBeGreaterThan(0);
      for (const reference of rule.tests) {
        const at = reference.indexOf(" › ");
        expect(at, reference).toBeGreaterThan(0);
        expect(existsSync(join(ROOT, reference.slice(0, at))), reference).toBe(true);
      }
    },
  );
});

describe("the source tree", () => {
  it("is not left mutated by an interrupted mutation run (npm run test:mutations -- --restore)", () => {
    expect(existsSync(join(ROOT, "test/mutations/.journal.json"))).toBe(false);
  });
});

describe("docs/rfc-traceability.md", () => {
  it("holds the requirement table generated from the rules (npm run docs:traceability)", () => {
    const doc = readFileSync(TRACEABILITY_DOC, "utf8");
    expect(doc).toBe(withCurrentTable(doc));
  });
});

describe("what counts as killed", () => {
  it.each([
    ["AssertionError: expected 1 to be 2 // Object.is equality", true],
    ['Error: promise resolved "1" instead of rejecting', true],
    ["TypeError: Cannot read properties of undefined (reading 'kty')", false],
    ["Error: STACK_TRACE_ERROR", false],
    ["Error: Test timed out in 5000ms.", false],
    [
      "Error: Property failed after 1 tests\n{ seed: 1 }\nCounterexample: [1]\nGot AssertionError: expected 1 to be 2",
      true,
    ],
    ["Error: Property failed after 1 tests\n{ seed: 1 }\nCounterexample: [1]\nGot TypeError: boom", false],
  ])("%s → %s", (message, killed) => {
    expect(isAssertionFailure(message)).toBe(killed);
  });
});
