// The RFC 6749 JSON error response for a refusal: the wire error wire-errors.ts maps its reason to, the headers the
// refusal carries (a challenge, Allow, Retry-After), and a public detail only when an authenticated operator may see
// one. Builds a Response; no I/O, no logging, never the refusal's private detail.
import { LIMITS } from "./constants";
import type { Reason, TokenServiceError } from "./errors";
import { type WireError, wireErrorFor } from "./wire-errors";

const INVALID_GRANT: WireError = { status: 400, error: "invalid_grant", description: "The assertion grant is invalid" };

/**
 * The RFC 6749 JSON error response for an error (or a bare reason). `assertionGrant`: the request presented its token
 * as the grant (RFC 7523 section 2.1), whose authentication failures are invalid_grant.
 */
export function errorResponse(error: Reason | TokenServiceError, assertionGrant = false): Response {
  const reason = typeof error === "string" ? error : error.reason;
  let wire = wireErrorFor(reason);
  // RFC 7523 section 3.1: what fails client authentication there is an invalid grant, with one fixed description too.
  if (assertionGrant && wire.error === "invalid_client") wire = INVALID_GRANT;
  const headers: Record<string, string> = {
    "Content-Type": "application/json;charset=UTF-8",
    "Cache-Control": "no-store",
  };
  if (wire.error === "invalid_token" || wire.error === "insufficient_scope" || reason === "admin_token_missing") {
    headers["WWW-Authenticate"] =
      reason === "admin_token_missing" ? 'Bearer realm="admin"' : `Bearer realm="admin", error="${wire.error}"`;
  }
  if (typeof error !== "string") Object.assign(headers, error.headers);
  const retryAfter = typeof error === "string" ? undefined : error.retryAfterSeconds;
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  else if (wire.status === 503) headers["Retry-After"] = "1";
  const description = publicDescription(typeof error === "string" ? undefined : error.publicDetail) ?? wire.description;
  return new Response(JSON.stringify({ error: wire.error, error_description: description }), {
    status: wire.status,
    headers,
  });
}

/** An error's public detail as RFC 6749 allows a description: printable ASCII, bounded; nothing when it is not. */
function publicDescription(detail: string | undefined): string | undefined {
  if (detail === undefined) return undefined;
  const ascii = detail
    .replace(/"/g, "'")
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "?")
    .slice(0, LIMITS.maxLogDetailLength);
  return ascii === "" ? undefined : ascii;
}
