// Test support: keeps every audit line the Worker writes (token, revocation, introspection and admin request events) while still
// passing it to the real console, and ties the lines written during one request to that request's Response.
// Reads console output only; never changes what the Worker does.

/** One parsed audit line, as src/token/audit.ts and src/admin/audit.ts write it. */
export interface AuditLine {
  event: "token_request" | "revocation_request" | "introspection_request" | "admin_request";
  outcome: string;
  status: number;
  reason?: string;
  detail?: string;
  client_id?: string;
  kid?: string;
  jti_sha256?: string;
  [field: string]: unknown;
}

const EVENTS: ReadonlySet<string> = new Set([
  "token_request",
  "revocation_request",
  "introspection_request",
  "admin_request",
]);
const log: AuditLine[] = [];
const linesOf = new WeakMap<Response, AuditLine[]>();
let installed = false;

function parseAuditLine(args: unknown[]): AuditLine | null {
  if (args.length !== 1 || typeof args[0] !== "string" || !args[0].startsWith('{"event":')) return null;
  try {
    const line = JSON.parse(args[0]) as AuditLine;
    return EVENTS.has(line.event) ? line : null;
  } catch {
    return null;
  }
}

/** Wraps console.log once per isolate. */
export function installAuditCapture(): void {
  if (installed) return;
  installed = true;
  const original = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    const line = parseAuditLine(args);
    if (line) log.push(line);
    original(...args);
  };
}

export function clearAuditLog(): void {
  log.length = 0;
}

/** Every audit line written so far in this test. */
export function auditLog(): readonly AuditLine[] {
  return log;
}

/** Runs `send` and remembers the audit lines written while it ran, for auditOf. */
export async function audited<R extends Response>(send: () => Promise<R>): Promise<R> {
  const mark = log.length;
  const response = await send();
  linesOf.set(response, log.slice(mark));
  return response;
}

/**
 * The one audit line written while `response` was produced. Throws when there is none or more than one (requests
 * sent concurrently: read auditLog() instead), so a test can never read another request's reason.
 */
export function auditOf(response: Response, event: AuditLine["event"] = "token_request"): AuditLine {
  const lines = (linesOf.get(response) ?? []).filter((line) => line.event === event);
  if (lines.length !== 1) throw new Error(`expected one ${event} audit line for this response, found ${lines.length}`);
  return lines[0]!;
}
