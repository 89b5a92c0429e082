// Test support for the pure checks: runs one and says what it decided, as a string a table-driven test compares:
// "accepted", what the expected error says (its reason code, or its message), or "threw <Name>" for any other throw,
// so that a missing check fails the test on an assertion instead of crashing it. No I/O.
import { TokenServiceError } from "../../src/protocol/errors";

function verdictOf(fn: () => unknown, describe: (err: unknown) => string | undefined): string {
  try {
    fn();
    return "accepted";
  } catch (err) {
    return describe(err) ?? `threw ${err instanceof Error ? err.name : typeof err}`;
  }
}

/** "accepted", the reason code of a TokenServiceError, or "threw <Name>". */
export function reasonOf(fn: () => unknown): string {
  return verdictOf(fn, (err) => (err instanceof TokenServiceError ? err.reason : undefined));
}

/** "accepted", "<reason>: <detail>" of a TokenServiceError, or "threw <Name>". */
export function reasonAndDetailOf(fn: () => unknown): string {
  return verdictOf(fn, (err) => (err instanceof TokenServiceError ? `${err.reason}: ${err.detail}` : undefined));
}

/** "accepted", the message of an error of one of `types`, or "threw <Name>". */
export function messageOf(fn: () => unknown, ...types: Array<new (...args: never[]) => Error>): string {
  return verdictOf(fn, (err) => (types.some((type) => err instanceof type) ? (err as Error).message : undefined));
}

/** The asynchronous reasonOf, for a promise: "loaded" when it resolves. */
export async function reasonOfPromise(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "loaded";
  } catch (err) {
    return err instanceof TokenServiceError ? err.reason : `threw ${err instanceof Error ? err.name : typeof err}`;
  }
}
