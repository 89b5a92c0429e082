// Clients through the service's management API, as an operator: every read is the authoritative record (with its
// version), every change goes through the client's authority, which applies the same rules the Worker uses, and so
// does a revocation of every token a client holds (the one thing only the API can do). Network I/O only; the API's
// refusals become one-line CliErrors.
import type { ClientChange } from "../../../src/client-authority/contract";
import { RecordError, validateClientRecord } from "../../../src/registry/record";
import { type AdminSession, clientPath, openAdminSession } from "../admin-client";
import type { AdminTarget } from "../admin-target";
import { CliError } from "../cli-error";
import type { ClientStore, ListedClient, StoredClient } from "./client-store";

/** The client does not exist: the API's 404 as a CliError the commands can tell apart. */
function isNotFound(err: unknown): boolean {
  return err instanceof CliError && /^invalid_request: No such client$/.test(err.message);
}

export class ApiClientStore implements ClientStore {
  readonly where: string;
  readonly authoritative = true;
  readonly #session: AdminSession;

  private constructor(session: AdminSession) {
    this.#session = session;
    this.where = `the management API at ${session.issuer}`;
  }

  static async open(target: AdminTarget): Promise<ApiClientStore> {
    return new ApiClientStore(await openAdminSession(target));
  }

  async load(clientId: string): Promise<StoredClient | null> {
    let body: Record<string, unknown>;
    try {
      ({ body } = await this.#session.call("GET", clientPath(clientId)));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    try {
      return { clientId, stored: body, record: validateClientRecord(body, clientId), problem: null };
    } catch (err) {
      if (err instanceof RecordError) return { clientId, stored: body, record: null, problem: err.message };
      throw err;
    }
  }

  async list(): Promise<ListedClient[]> {
    const clients: ListedClient[] = [];
    let cursor: string | undefined;
    do {
      const query = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const { body } = await this.#session.call("GET", `/clients${query}`);
      for (const entry of (body.clients as Array<Record<string, unknown>>) ?? []) {
        clients.push({
          clientId: String(entry.client_id),
          status: typeof entry.status === "string" ? entry.status : null,
          version: typeof entry.version === "number" ? entry.version : null,
        });
      }
      cursor = typeof body.cursor === "string" ? body.cursor : undefined;
    } while (cursor);
    return clients.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
  }

  /**
   * Revokes every token issued to the client before the cut-off its authority sets (the next whole second), and
   * resolves with that cut-off in epoch seconds. Not a record change: the record and its version stay as they are.
   */
  async revokeTokens(clientId: string): Promise<number> {
    let body: Record<string, unknown>;
    try {
      ({ body } = await this.#session.call("POST", clientPath(clientId, "/revoke-tokens")));
    } catch (err) {
      if (isNotFound(err))
        throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${this.where}`);
      throw err;
    }
    const before = body.tokens_revoked_before;
    if (body.client_id !== clientId || typeof before !== "number" || !Number.isSafeInteger(before) || before < 0) {
      throw new CliError(
        "admin_error_response",
        "the admin API answered revoke-tokens without a cut-off for the client",
      );
    }
    return before;
  }

  async apply(clientId: string, change: ClientChange): Promise<Record<string, unknown> | null> {
    const call = (method: string, rest: string, body?: unknown) =>
      this.#session.call(method, clientPath(clientId, rest), body === undefined ? {} : { body });
    let answer: { body: Record<string, unknown> };
    try {
      switch (change.kind) {
        case "create":
          answer = await this.#session.call("POST", "/clients", { body: { ...change.record, client_id: clientId } });
          break;
        case "replace":
          answer = await call("PUT", "", change.record);
          break;
        case "patch":
          answer = await call("PATCH", "", change.patch);
          break;
        case "status":
          answer = await call("POST", change.status === "active" ? "/enable" : "/disable");
          break;
        case "add_keys":
          answer = await call("POST", "/keys", { keys: change.keys });
          break;
        case "retire_key":
          answer = await call("POST", `/keys/${encodeURIComponent(change.kid)}/retire`);
          break;
        case "restore_key":
          answer = await call("POST", `/keys/${encodeURIComponent(change.kid)}/restore`);
          break;
        case "delete":
          await call("DELETE", "");
          return null;
      }
    } catch (err) {
      if (isNotFound(err))
        throw new CliError("client_not_found", `no client ${JSON.stringify(clientId)} in ${this.where}`);
      throw err;
    }
    return answer.body;
  }
}
