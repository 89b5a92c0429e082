// The CLI's one error type: a stable code, a one-line message, and the process exit status it maps to.
// Pure: no I/O. The entry point (scripts/cli.ts) is the only place that prints it.

/** `usage`: the command line is wrong (exit 2). Every other code is a refusal or a failure (exit 1). */
export type CliErrorCode =
  | "usage"
  | "input_invalid"
  | "key_refused"
  | "record_invalid"
  | "client_not_found"
  | "file_exists"
  | "wrangler_failed"
  | "server_unreachable"
  | "metadata_invalid"
  | "token_error_response"
  | "admin_error_response"
  | "managed_by_authority";

export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string) {
    // One line, whatever the cause held: callers may wrap messages from wrangler, node or jose.
    super(message.replace(/\s*[\r\n]+\s*/g, " ").trim());
    this.name = "CliError";
    this.code = code;
  }

  get exitCode(): number {
    return this.code === "usage" ? 2 : 1;
  }
}

/** The message of anything thrown, on one line, for wrapping into a CliError. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
