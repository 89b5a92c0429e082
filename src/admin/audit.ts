// The admin API's audit trail: one JSON line per admin request: method, path, status, outcome and reason code; the
// operator who asked (client id, key, and the admin token's jti as a hash); the client and key it was about; the
// record's version before and after. Never the token, a key, a record or a request body.
import type { MiddlewareHandler } from "hono";
import type { AdminAuditFields, AppEnv } from "../context";
import { shortHash } from "../lib/short-hash";
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";

export const auditAdminRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const fields: AdminAuditFields = {};
  c.set("adminAudit", fields);
  await next();
  const error = c.error;
  const operator = c.get("operator");
  console.log(
    JSON.stringify({
      event: "admin_request",
      method: c.req.method,
      path: new URL(c.req.url).pathname.slice(0, LIMITS.maxLoggedPathLength),
      status: c.res.status,
      outcome: error ? (c.res.status >= 500 ? "error" : "refused") : "done",
      ...(error instanceof TokenServiceError ? { reason: error.reason } : error ? { reason: "internal_error" } : {}),
      ...(operator
        ? {
            operator: operator.clientId,
            operator_kid: operator.keyId,
            admin_token_jti_sha256: await shortHash(operator.tokenJti),
          }
        : {}),
      ...fields,
    }),
  );
};
