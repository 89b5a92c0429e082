// Test support for the in-workerd suites: client keys, registry records written to the real KV binding,
// assertions built with jose, token requests sent through the Worker's own fetch handler, and each refusal read
// together with the reason code its audit line names (every authentication failure looks alike on the wire).
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { expect } from "vitest";
import { parseConfig } from "../../src/config";
import worker from "../../src/index";
import type { Reason } from "../../src/protocol/errors";
import type { ClientRecord } from "../../src/registry/record";
import { type AuditLine, audited, auditOf } from "./audit-capture";

export { audited, auditLog, auditOf } from "./audit-capture";

export const ISSUER = "https://as.example.test";
export const TOKEN_ENDPOINT = `${ISSUER}/token`;
export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export type TestAlg = "ES256" | "ES384" | "ES512" | "PS256" | "RS256" | "RS512" | "PS384" | "EdDSA" | "Ed25519";

/**
 * Seconds a Worker isolate reuses a client record in these tests: the shipped wrangler.toml value, never overridden,
 * so every test runs with the cache a deployment has.
 */
export const CLIENT_CACHE_TTL_SECONDS = parseConfig(env).clientCacheTtl;

export interface ClientKey {
  alg: TestAlg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const keyCache = new Map<string, Promise<ClientKey>>();

/** A client key pair; cached per alg and slot so RSA generation happens once per run. */
export function clientKey(alg: TestAlg, slot = 0): Promise<ClientKey> {
  const id = `${alg}:${slot}`;
  let key = keyCache.get(id);
  if (!key) {
    key = (async () => {
      const generateAs = alg === "Ed25519" ? "EdDSA" : alg;
      const { privateKey, publicKey } = await generateKeyPair(generateAs, {
        extractable: true,
        ...(generateAs === "EdDSA" ? { crv: "Ed25519" } : {}),
      });
      const jwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(jwk);
      return { alg, kid, privateKey: privateKey as CryptoKey, publicJwk: { ...jwk, kid } };
    })();
    keyCache.set(id, key);
  }
  return key;
}

let counter = 0;
/** A client_id unique to this run, so Durable Object state never leaks between tests. */
export function uniqueClientId(label = "client"): string {
  counter += 1;
  return `${label}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface TestClient {
  clientId: string;
  key: ClientKey;
  record: ClientRecord;
}

/**
 * Registers a client and returns it with its signing key: through its authority, as the management API does (KV
 * then holds the replica at version 1), or with `bootstrap`, written straight to KV as the CLI's bootstrap path does
 * (no version; the authority adopts it on first use, and a record the registry refuses can be stored this way).
 */
export async function registerClient(
  options: { alg?: TestAlg; record?: Partial<ClientRecord>; keys?: JWK[]; clientId?: string; bootstrap?: boolean } = {},
): Promise<TestClient> {
  const key = await clientKey(options.alg ?? "ES256");
  const clientId = options.clientId ?? uniqueClientId();
  const record = JSON.parse(
    JSON.stringify({
      client_id: clientId,
      status: "active",
      jwks: { keys: options.keys ?? [key.publicJwk] },
      scopes: ["read", "write"],
      audiences: ["https://api.example.test"],
      ...options.record,
    }),
  ) as ClientRecord;
  if (options.bootstrap) {
    await env.CLIENTS.put(`client:${clientId}`, JSON.stringify(record));
  } else {
    const change = { kind: "create" as const, record: record as unknown as Record<string, unknown> };
    const result = await env.CLIENT_AUTHORITY.getByName(clientId).change(clientId, change, undefined, {
      clientId: "test-setup",
    });
    if (!result.ok) throw new Error(`registerClient: the authority refused the record: ${result.detail}`);
  }
  return { clientId, key, record };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export interface AssertionOptions {
  claims?: Record<string, unknown>;
  /** Claims to delete from the defaults. */
  omit?: string[];
  header?: Record<string, unknown>;
  /** Sign with this key instead of the client's. */
  signWith?: ClientKey;
}

/** A client assertion for `client`, valid by default; options change or remove parts of it. */
export async function buildAssertion(client: TestClient, options: AssertionOptions = {}): Promise<string> {
  const now = nowSeconds();
  const claims: Record<string, unknown> = {
    iss: client.clientId,
    sub: client.clientId,
    aud: ISSUER,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 60,
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  const key = options.signWith ?? client.key;
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...options.header } as { alg: string })
    .sign(key.privateKey);
}

/** `[vars]` a test runs the Worker with instead of the shipped ones (a profile, DPoP settings). */
export type TestVars = Partial<
  Record<"ISSUER" | "PROFILE" | "CLOCK_SKEW" | "DPOP_PROOF_MAX_AGE" | "DPOP_NONCE" | "DPOP_NONCE_SECRET", string>
>;

/**
 * POSTs a form to the token endpoint through the Worker. Arrays become repeated parameters. With `vars`, the Worker
 * runs with those `[vars]` over the shipped ones (its own fetch handler, the same bindings).
 */
export function postToken(
  params: Record<string, string | string[] | undefined>,
  init: { headers?: Record<string, string>; body?: BodyInit; vars?: TestVars; url?: string } = {},
): Promise<Response> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) form.append(name, v);
  }
  const request = new Request(init.url ?? TOKEN_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...init.headers },
    body: init.body ?? form.toString(),
  });
  if (init.vars === undefined) return audited(() => exports.default.fetch(request));
  const vars = init.vars;
  return audited(() =>
    Promise.resolve(worker.fetch(request, { ...env, ...vars } as typeof env, createExecutionContext())),
  );
}

/** The standard client_credentials form for an assertion. */
export function tokenForm(assertion: string, extra: Record<string, string | string[] | undefined> = {}) {
  return {
    grant_type: "client_credentials",
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  };
}

/** Requests a token with a fresh valid assertion for `client`. */
export async function requestToken(client: TestClient, extra: Record<string, string | string[] | undefined> = {}) {
  return postToken(tokenForm(await buildAssertion(client), extra));
}

/** Reads an RFC 6749 error response and returns status and error code. */
export async function errorOf(response: Response): Promise<{ status: number; error: string; description: string }> {
  const body = (await response.json()) as { error: string; error_description: string };
  return { status: response.status, error: body.error, description: body.error_description };
}

export interface Refusal {
  status: number;
  error: string;
  /** The internal reason code from the request's audit line. */
  reason: string | undefined;
}

/**
 * What a refused request got on the wire (status, RFC 6749 error) and the reason code its audit line gives. Tests
 * compare all three, so a refusal for another reason than the one named fails.
 */
export async function refusalOf(response: Response, event: AuditLine["event"] = "token_request"): Promise<Refusal> {
  const { status, error } = await errorOf(response);
  return { status, error, reason: auditOf(response, event).reason };
}

/** The wire answer of every client-authentication failure: only the reason code tells them apart. */
export const INVALID_CLIENT = { status: 401, error: "invalid_client" } as const;

/** A refusal as invalid_client for `reason`, for toEqual against refusalOf. */
export function invalidClient(reason: Reason): Refusal {
  return { ...INVALID_CLIENT, reason };
}

/** Asserts a token was issued: status 200 with an access token, and an audit line saying so. */
export async function expectIssued(response: Response): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, outcome: auditOf(response).outcome, reason: auditOf(response).reason }).toEqual({
    status: 200,
    outcome: "issued",
    reason: undefined,
  });
  expect(typeof body.access_token).toBe("string");
  return body;
}

export function get(path: string, init?: RequestInit): Promise<Response> {
  return audited(() => exports.default.fetch(`${ISSUER}${path}`, init));
}
