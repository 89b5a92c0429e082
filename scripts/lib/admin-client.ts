// Calls the service's admin API as an operator client: an admin token obtained the way `token` does (scope admin,
// resource <issuer>/admin), then one admin call. Network and key-file I/O only; prints nothing, never the token.
import { ADMIN_PATH, ADMIN_SCOPE } from "../../src/admin/contract";
import type { AdminTarget } from "./admin-target";
import { CliError } from "./cli-error";
import { readSigningKeyFile } from "./private-key-file";
import { fetchOrExplain, requestToken } from "./token-client";

/** What `GET /admin/clients/{id}` answers. */
export interface AdminClientStatus {
  client_id: string;
  registry_status: unknown;
  kill_switch: { client: boolean; kids: string[] };
}

export interface AdminSession {
  issuer: string;
  disableClient(clientId: string): Promise<Record<string, unknown>>;
  enableClient(clientId: string): Promise<Record<string, unknown>>;
  retireKey(clientId: string, kid: string): Promise<Record<string, unknown>>;
  clientStatus(clientId: string): Promise<AdminClientStatus>;
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

/** Gets an admin token once, and returns the calls that use it. */
export async function openAdminSession(target: AdminTarget): Promise<AdminSession> {
  const { issuer, accessToken } = await adminAccessToken(target);
  const clientPath = (clientId: string) => `${issuer}${ADMIN_PATH}/clients/${encodeURIComponent(clientId)}`;

  async function call(method: "GET" | "POST", url: string): Promise<Record<string, unknown>> {
    const response = await fetchOrExplain(url, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
    });
    const body = await jsonObjectOf(response);
    if (!response.ok) throw new CliError("admin_error_response", errorLine(response.status, body));
    if (body === null)
      throw new CliError(
        "admin_error_response",
        `the admin API answered HTTP ${response.status} without a JSON object`,
      );
    return body;
  }

  return {
    issuer,
    disableClient: (clientId) => call("POST", `${clientPath(clientId)}/disable`),
    enableClient: (clientId) => call("POST", `${clientPath(clientId)}/enable`),
    retireKey: (clientId, kid) => call("POST", `${clientPath(clientId)}/keys/${encodeURIComponent(kid)}/retire`),
    clientStatus: async (clientId) => (await call("GET", clientPath(clientId))) as unknown as AdminClientStatus,
  };
}
