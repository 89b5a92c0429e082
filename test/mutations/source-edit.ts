// Applies one mutation to one source file and always puts the original back: after the run, on a signal, and, through
// a journal written before the edit, on the next start if this process was killed outright. Touches only the file
// it was given and the journal.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./vitest-run";

/** Holds the original text of the file being mutated while a mutation is applied. Git-ignored. */
const JOURNAL = join(PROJECT_ROOT, "test/mutations/.journal.json");

interface Journal {
  file: string;
  original: string;
}

/** Writes `text` to `path` through a temporary file, so the file is never seen half-written. */
function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.mutation-tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** Puts back a file a killed run left mutated. Returns the file's path, or null when there was nothing to do. */
export function recoverInterruptedRun(): string | null {
  if (!existsSync(JOURNAL)) return null;
  const journal = JSON.parse(readFileSync(JOURNAL, "utf8")) as Journal;
  writeAtomically(join(PROJECT_ROOT, journal.file), journal.original);
  rmSync(JOURNAL);
  return journal.file;
}

let active: Journal | null = null;

function restoreActive(): void {
  if (!active) return;
  writeAtomically(join(PROJECT_ROOT, active.file), active.original);
  rmSync(JOURNAL, { force: true });
  active = null;
}

let signalsHandled = false;

/** On SIGINT, SIGTERM or SIGHUP: restore the mutated file, then exit with the signal's code. */
function handleSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.on(signal, () => {
      restoreActive();
      process.exit(code);
    });
  }
  process.on("exit", restoreActive);
}

export class StaleMutation extends Error {}

/**
 * Replaces the one occurrence of `find` in `file` by `replace`, runs `work`, and restores the file whatever happens.
 * Throws StaleMutation, changing nothing, when `find` does not occur exactly once.
 */
export async function withMutation<T>(file: string, find: string, replace: string, work: () => Promise<T>): Promise<T> {
  handleSignals();
  const path = join(PROJECT_ROOT, file);
  const original = readFileSync(path, "utf8");
  const count = original.split(find).length - 1;
  if (count !== 1) throw new StaleMutation(`its text occurs ${count} times in ${file}, not once`);
  active = { file, original };
  writeFileSync(JOURNAL, JSON.stringify(active));
  writeAtomically(
    path,
    original.replace(find, () => replace),
  );
  try {
    return await work();
  } finally {
    restoreActive();
  }
}
