// Test support for the admin API suites: operator clients and their admin tokens, admin requests through the Worker
// (with their audit line), tokens signed with the service's own key for claims a real token never has, and a stale
// KV replica. Sends requests and writes KV; asserts only that operator tokens were issued.
import { env, exports } from "cloudflare:workers";
import { importJWK, type JWK, SignJWT } from "jose";
import {
  audited,
  buildAssertion,
  type ClientKey,
  clientKey,
  expectIssued,
  ISSUER,
  postToken,
  refusalOf,
  registerClient,
  type TestClient,
  tokenForm,
} from "../support";

export const ADMIN_AUDIENCE = `${ISSUER}/admin`;

export interface Operator {
  client: TestClient;
  clientId: string;
  token: string;
}

/** A new operator client (scopes admin and read, audiences the admin API and an API) and an admin token for it. */
export async function newOperator(
  options: { scope?: string; resource?: string | string[]; scopes?: string[]; keys?: JWK[]; signWith?: ClientKey } = {},
): Promise<Operator> {
  const client = await registerClient({
    ...(options.keys ? { keys: options.keys } : {}),
    record: { scopes: options.scopes ?? ["admin", "read"], audiences: [ADMIN_AUDIENCE, "https://api.example.test"] },
  });
  const token = await adminTokenFor(client, options);
  return { client, clientId: client.clientId, token };
}

/** An admin token for an operator client, from an assertion signed with `client.key` unless another key is given. */
export async function adminTokenFor(
  client: TestClient,
  options: { scope?: string; resource?: string | string[]; signWith?: ClientKey } = {},
): Promise<string> {
  const assertion = await buildAssertion(client, options.signWith ? { signWith: options.signWith } : {});
  const form = tokenForm(assertion, { scope: options.scope ?? "admin", resource: options.resource ?? ADMIN_AUDIENCE });
  return (await expectIssued(await postToken(form))).access_token as string;
}

export async function adminToken(options: Parameters<typeof newOperator>[0] = {}): Promise<string> {
  return (await newOperator(options)).token;
}

/** An admin request through the Worker, its audit line remembered for refusalOf. */
export function admin(
  path: string,
  token: string | undefined,
  method = "POST",
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["Content-Type"] ??= "application/json";
  return audited(() =>
    exports.default.fetch(`${ISSUER}/admin${path}`, {
      method,
      headers,
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
    }),
  );
}

/** The refusal of an admin request: wire status and error, and the reason its admin audit line gives. */
export function adminRefusalOf(response: Response) {
  return refusalOf(response, "admin_request");
}

/** A token signed with the service's own active signing key, with claims and header chosen by the test. */
export async function tokenSignedByService(claims: Record<string, unknown>, typ = "at+jwt"): Promise<string> {
  const [active] = (JSON.parse(env.SIGNING_KEYS!) as { keys: Array<JWK & { kid: string; alg: string }> }).keys;
  const key = await importJWK(active!, active!.alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, jti: crypto.randomUUID(), scope: "admin", ...claims })
    .setProtectedHeader({ alg: active!.alg, kid: active!.kid, typ })
    .sign(key);
}

/** Puts the client's original record back in KV, as a KV location that has not seen a change yet would serve it. */
export async function simulateStaleKv(client: TestClient): Promise<void> {
  await env.CLIENTS.put(`client:${client.clientId}`, JSON.stringify(client.record));
}

/** Two ES256 keys for a client that rotates. */
export async function keyPairOfKeys(first: number, second: number) {
  return [await clientKey("ES256", first), await clientKey("ES256", second)] as const;
}
