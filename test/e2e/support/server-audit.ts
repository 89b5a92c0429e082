// Reads the audit lines the shared local server printed (its output is appended to a log file by the global
// setup), so an end-to-end refusal can be checked by its reason code, which the wire never shows. Reads files only.
import { open } from "node:fs/promises";

export type AuditEvent = "token_request" | "revocation_request" | "introspection_request" | "admin_request";
const EVENTS: ReadonlySet<string> = new Set([
  "token_request",
  "revocation_request",
  "introspection_request",
  "admin_request",
]);

export interface ServerAuditLine {
  event: AuditEvent;
  outcome: string;
  status: number;
  reason?: string;
  client_id?: string;
  [field: string]: unknown;
}

/** Wrangler prints a line as soon as the Worker logs it, but a moment may pass before it reaches the file. */
const LINE_WAIT_MS = 10_000;
const POLL_MS = 50;

async function readFrom(path: string, offset: number): Promise<{ text: string; size: number }> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    if (size <= offset) return { text: "", size };
    const buffer = Buffer.alloc(size - offset);
    await file.read(buffer, 0, buffer.length, offset);
    return { text: buffer.toString("utf8"), size };
  } finally {
    await file.close();
  }
}

function auditLinesIn(text: string): ServerAuditLine[] {
  const lines: ServerAuditLine[] = [];
  for (const raw of text.split("\n")) {
    const start = raw.indexOf('{"event":"');
    if (start < 0) continue;
    try {
      const line = JSON.parse(raw.slice(start)) as ServerAuditLine;
      if (EVENTS.has(line.event)) lines.push(line);
    } catch {
      // a line that only looks like one
    }
  }
  return lines;
}

/**
 * Runs `send` (one request to the server, nothing else running against it) and returns its result with the one audit
 * line of `event` (token_request unless told) the server printed for it. Fails when none arrives, or more than one.
 */
export async function withAuditLine<T>(
  logFile: string,
  send: () => Promise<T>,
  event: AuditEvent = "token_request",
): Promise<{ result: T; audit: ServerAuditLine }> {
  const { size: before } = await readFrom(logFile, 0);
  const result = await send();
  const deadline = Date.now() + LINE_WAIT_MS;
  for (;;) {
    const lines = auditLinesIn((await readFrom(logFile, before)).text).filter((l) => l.event === event);
    if (lines.length > 1) throw new Error(`expected one audit line for this request, found ${lines.length}`);
    if (lines.length === 1) return { result, audit: lines[0]! };
    if (Date.now() > deadline) throw new Error(`no audit line within ${LINE_WAIT_MS} ms in ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Runs `send` (nothing else running against the server) and returns its result with the `count` token_request audit
 * lines the server printed for it, in order: a client library that retries (after use_dpop_nonce, say) sends two.
 */
export async function withAuditLines<T>(
  logFile: string,
  count: number,
  send: () => Promise<T>,
): Promise<{ result: T; audit: ServerAuditLine[] }> {
  const { size: before } = await readFrom(logFile, 0);
  const result = await send();
  const deadline = Date.now() + LINE_WAIT_MS;
  for (;;) {
    const lines = auditLinesIn((await readFrom(logFile, before)).text).filter((l) => l.event === "token_request");
    if (lines.length > count) throw new Error(`expected ${count} audit lines for this exchange, found ${lines.length}`);
    if (lines.length === count) return { result, audit: lines };
    if (Date.now() > deadline) throw new Error(`${lines.length} of ${count} audit lines within ${LINE_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
