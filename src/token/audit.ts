// Writes one structured JSON line per token request decision: outcome, reason code, client_id, kid, a hash of
// the jti, status and latency. Never a token, a key, an assertion, or raw request input beyond bounded ids.
import type { MiddlewareHandler } from "hono";
import type { AppEnv, AuditFields } from "../context";
import { TokenServiceError } from "../protocol/errors";

export interface AuditLine extends Omit<AuditFields, "jti"> {
  event: "token_request";
  outcome: "issued" | "refused" | "error";
  reason?: string;
  detail?: string;
  jti_sha256?: string;
  status: number;
  latency_ms: number;
}

async function shortHash(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest, 0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Wraps the token endpoint; logs after the response is decided (errors are rendered by app.onError). */
export const auditTokenRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  const audit: AuditFields = {};
  c.set("audit", audit);
  await next();
  const error = c.error;
  const status = c.res.status;
  const line: AuditLine = {
    event: "token_request",
    // Issued means a token went out: a 200 with no error.
    outcome: !error && status === 200 ? "issued" : status >= 500 ? "error" : "refused",
    status,
    latency_ms: Date.now() - started,
  };
  if (error instanceof TokenServiceError) {
    line.reason = error.reason;
    if (error.detail) line.detail = error.detail;
  } else if (error) {
    line.reason = "internal_error";
  }
  if (audit.client_id !== undefined) line.client_id = audit.client_id;
  if (audit.kid !== undefined) line.kid = audit.kid;
  if (audit.jti !== undefined) line.jti_sha256 = await shortHash(audit.jti);
  console.log(JSON.stringify(line));
};
