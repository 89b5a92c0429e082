// The admin API's audit trail: one JSON line per admin request (method, path, status, outcome, reason code).
// Never the token, a key or a request body.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";

/** One JSON line per admin request: what was asked, of which client, and the outcome. Never the token. */
export const auditAdminRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const error = c.error;
  console.log(
    JSON.stringify({
      event: "admin_request",
      method: c.req.method,
      path: new URL(c.req.url).pathname.slice(0, LIMITS.maxLoggedPathLength),
      status: c.res.status,
      outcome: error ? "refused" : "done",
      ...(error instanceof TokenServiceError ? { reason: error.reason } : {}),
    }),
  );
};
