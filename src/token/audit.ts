// Writes one structured JSON line per decision of the token, revocation and introspection endpoints: outcome, reason
// code, status and latency; the client and key the request claimed (`claimed_`) and, once its signature verified, the
// ones it proved; a hash of the assertion's jti; the thumbprint of a verified DPoP proof key; for an issued token its
// jti (hashed), aud, scope, exp and type; for a revoked or introspected token its client, its jti (hashed) and what was
// found; for an external token its issuer, subject, trust and jti (hashed). Never a token, a key, an assertion, a raw jti, or raw request input beyond bounded ids.
import type { MiddlewareHandler } from "hono";
import type { AppEnv, AuditFields } from "../context";
import { shortHash } from "../lib/short-hash";
import { TokenServiceError } from "../protocol/errors";

export type AuditEvent = "token_request" | "revocation_request" | "introspection_request";

export interface AuditLine extends Omit<AuditFields, "jti" | "token" | "target" | "federation"> {
  event: AuditEvent;
  /** `answered`: a revocation or introspection request got its 200. */
  outcome: "issued" | "answered" | "refused" | "error";
  reason?: string;
  detail?: string;
  jti_sha256?: string;
  token_jti_sha256?: string;
  token_aud?: string | string[];
  token_scope?: string;
  token_exp?: number;
  token_type?: "Bearer" | "DPoP";
  federated_issuer?: string;
  federated_subject?: string;
  /** The key id of the federated trust that matched (`federation:<fingerprint>`). */
  trust?: string;
  federated_jti_sha256?: string;
  target_client_id?: string;
  target_jti_sha256?: string;
  target_state?: string;
  token_type_hint?: string;
  status: number;
  latency_ms: number;
}

/** Wraps an endpoint; logs after the response is decided (errors are rendered by app.onError). */
export const auditRequest =
  (event: AuditEvent): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const started = Date.now();
    const audit: AuditFields = {};
    c.set("audit", audit);
    await next();
    const error = c.error;
    const status = c.res.status;
    const line: AuditLine = {
      event,
      // Issued means a token went out: a 200 with no error.
      outcome:
        !error && status === 200
          ? event === "token_request"
            ? "issued"
            : "answered"
          : status >= 500
            ? "error"
            : "refused",
      status,
      latency_ms: Date.now() - started,
    };
    if (error instanceof TokenServiceError) {
      line.reason = error.reason;
      if (error.detail) line.detail = error.detail;
    } else if (error) {
      line.reason = "internal_error";
    }
    if (audit.claimed_client_id !== undefined) line.claimed_client_id = audit.claimed_client_id;
    if (audit.claimed_kid !== undefined) line.claimed_kid = audit.claimed_kid;
    if (audit.client_id !== undefined) line.client_id = audit.client_id;
    if (audit.kid !== undefined) line.kid = audit.kid;
    if (audit.jti !== undefined) line.jti_sha256 = await shortHash(audit.jti);
    if (audit.dpop_jkt !== undefined) line.dpop_jkt = audit.dpop_jkt;
    if (audit.token !== undefined && line.outcome === "issued") {
      line.token_jti_sha256 = await shortHash(audit.token.jti);
      line.token_aud = audit.token.aud;
      line.token_scope = audit.token.scope;
      line.token_exp = audit.token.exp;
      line.token_type = audit.token.type;
    }
    const federation = audit.federation;
    if (federation !== undefined) {
      line.federated_issuer = federation.issuer;
      line.federated_subject = federation.subject;
      if (federation.trust !== undefined) line.trust = federation.trust;
      if (federation.jti !== undefined) line.federated_jti_sha256 = await shortHash(federation.jti);
    }
    const target = audit.target;
    if (target !== undefined) {
      if (target.client_id !== undefined) line.target_client_id = target.client_id;
      if (target.jti !== undefined) line.target_jti_sha256 = await shortHash(target.jti);
      line.target_state = target.state;
      if (target.hint !== undefined) line.token_type_hint = target.hint;
    }
    console.log(JSON.stringify(line));
  };

export const auditTokenRequest = auditRequest("token_request");
