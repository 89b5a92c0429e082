// Calls the service's management API as an operator client: an admin token obtained the way `token` does (scope admin,
// resource <issuer>/admin, at most 300 s), then the calls. Network and key-file I/O only; prints nothing, never the
// token. An answer other than 2xx becomes one CliError line: the API's error and description.
import { ADMIN_PATH, ADMIN_SCOPE } from "../../src/admin/contract";
import type { AdminTarget } from "./admin-target";
import { CliError } from "./cli-error";
import { readSigningKeyFile } from "./private-key-file";
import { fetchOrExplain, requestToken } from "./token-client";

/** What one call answered: the JSON body and the record version its ETag names. */
export interface AdminAnswer {
  body: Record<string, unknown>;
  version: number | undefined;
}

export interface AdminSession {
  issuer: string;
  /** `method` on `<issuer>/admin` + `path`, with a JSON body and an If-Match version when given. */
  call(method: string, path: string, options?: { body?: unknown; ifVersion?: number }): Promise<AdminAnswer>;
}

/** An error body as one line: "<error>: <error_description>", or the HTTP status when the body says nothing. */
function errorLine(status: number, body: Record<string, unknown> | null): string {
  const error = typeof body?.error === "string" ? body.error : `HTTP ${status}`;
  const description = typeof body?.error_description === "string" ? body.error_description : "";
  return description ? `${error}: ${description}` : error;
}

async function jsonObjectOf(response: Response): Promise<Record<string, unknown> | null> {
  try {
    const body: unknown = JSON.parse(await response.text());
    return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Signs an assertion with the operator's key and exchanges it for an admin access token. */
async function adminAccessToken(target: AdminTarget): Promise<{ issuer: string; accessToken: string }> {
  const key = await readSigningKeyFile(target.keyPath, { label: target.keyLabel });
  const response = await requestToken({
    issuer: target.issuer,
    clientId: target.clientId,
    key,
    scope: ADMIN_SCOPE,
    resources: [target.issuer + ADMIN_PATH],
  });
  if (!response.ok) throw new CliError("admin_error_response", errorLine(response.status, response.body));
  const accessToken = response.body.access_token;
  if (typeof accessToken !== "string" || accessToken === "") {
    throw new CliError("admin_error_response", "the token endpoint answered without an access_token");
  }
  return { issuer: response.metadata.issuer, accessToken };
}

/** Gets an admin token once, and returns the session that uses it. */
export async function openAdminSession(target: AdminTarget): Promise<AdminSession> {
  const { issuer, accessToken } = await adminAccessToken(target);
  return {
    issuer,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: "application/json" };
      if (options.body !== undefined) headers["content-type"] = "application/json";
      if (options.ifVersion !== undefined) headers["if-match"] = `"${options.ifVersion}"`;
      const response = await fetchOrExplain(`${issuer}${ADMIN_PATH}${path}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const body = await jsonObjectOf(response);
      if (!response.ok) throw new CliError("admin_error_response", errorLine(response.status, body));
      if (body === null) {
        throw new CliError(
          "admin_error_response",
          `the admin API answered HTTP ${response.status} without a JSON object`,
        );
      }
      const etag = /^"(\d+)"$/.exec(response.headers.get("etag") ?? "");
      return { body, version: etag ? Number(etag[1]) : undefined };
    },
  };
}

/** The admin API path of one client. */
export function clientPath(clientId: string, rest = ""): string {
  return `/clients/${encodeURIComponent(clientId)}${rest}`;
}
