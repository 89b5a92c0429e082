// Test support for the revocation and introspection suites: access tokens obtained through the Worker, and
// revocation and introspection requests authenticated with a client's own fresh assertion (or none), each with its
// audit line remembered, and changes made through a client's authority. Asserts only that a token was issued, that a
// change was applied, and that an introspection was answered (200, no-store).
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ClientChange } from "../../../src/client-authority/contract";
import { INTROSPECTION_PATH, REVOCATION_PATH } from "../../../src/protocol/constants";
import {
  auditOf,
  buildAssertion,
  expectIssued,
  ISSUER,
  JWT_BEARER,
  postToken,
  registerClient,
  type TestClient,
  type TestVars,
  tokenForm,
} from "../support";

export const ISSUER_PATHS = {
  revocation: `${ISSUER}${REVOCATION_PATH}`,
  introspection: `${ISSUER}${INTROSPECTION_PATH}`,
} as const;

/** A client that may introspect (`introspection: true`): a resource server checking tokens online. */
export function registerIntrospector(record: Record<string, unknown> = {}): Promise<TestClient> {
  return registerClient({ record: { introspection: true, ...record } });
}

/** An access token for `client`, with a fresh assertion; `extra` adds token request parameters. */
export async function accessTokenFor(client: TestClient, extra: Record<string, string> = {}): Promise<string> {
  const body = await expectIssued(await postToken(tokenForm(await buildAssertion(client), extra)));
  return body.access_token as string;
}

export interface StatusCall {
  /** Authenticate as this client with a fresh assertion (none: no client authentication at all). */
  as?: TestClient;
  /** Send this assertion instead of a fresh one. */
  assertion?: string;
  hint?: string;
  /** A client_id parameter (a federated caller names its client this way). */
  clientId?: string;
  vars?: TestVars & Record<string, string>;
  headers?: Record<string, string>;
}

function statusForm(token: string | undefined, assertion: string | undefined, hint: string | undefined) {
  return {
    ...(assertion === undefined ? {} : { client_assertion_type: JWT_BEARER, client_assertion: assertion }),
    ...(token === undefined ? {} : { token }),
    ...(hint === undefined ? {} : { token_type_hint: hint }),
  };
}

async function post(path: string, token: string | undefined, call: StatusCall): Promise<Response> {
  const assertion = call.assertion ?? (call.as ? await buildAssertion(call.as) : undefined);
  const form = { ...statusForm(token, assertion, call.hint), ...(call.clientId ? { client_id: call.clientId } : {}) };
  return postToken(form, {
    url: path,
    ...(call.vars ? { vars: call.vars } : {}),
    ...(call.headers ? { headers: call.headers } : {}),
  });
}

/** POST /revoke for `token`. */
export function revoke(token: string | undefined, call: StatusCall = {}): Promise<Response> {
  return post(ISSUER_PATHS.revocation, token, call);
}

/** POST /introspect for `token`. */
export function introspect(token: string | undefined, call: StatusCall = {}): Promise<Response> {
  return post(ISSUER_PATHS.introspection, token, call);
}

/**
 * Introspects `token` as `caller`, checks the answer is a 200 that is not cached, and returns its body and the state
 * the introspection audit line records.
 */
export async function inspect(token: string, caller: TestClient, vars?: StatusCall["vars"]) {
  const response = await introspect(token, { as: caller, ...(vars ? { vars } : {}) });
  expect(response.status).toBe(200);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  const state = auditOf(response, "introspection_request").target_state;
  return { body: (await response.json()) as Record<string, unknown>, state };
}

/** Applies `change` to a client through its authority, as an operator's management API call would. */
export async function changeClient(clientId: string, change: ClientChange): Promise<void> {
  const result = await env.CLIENT_AUTHORITY.getByName(clientId).change(clientId, change, undefined, {
    clientId: "test-operator",
  });
  if (!result.ok) throw new Error(`changeClient: the authority refused the change: ${result.detail}`);
}
