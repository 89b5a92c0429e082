// Builds client assertions with jose (any claim overridable, so tests can make bad ones on purpose) and posts
// them to the token endpoint as a raw form. Returns status and JSON body; never retries, never checks anything.
import { type JWTPayload, SignJWT } from "jose";
import type { ClientKey } from "./client-keys";

export interface AssertionOptions {
  clientId: string;
  key: ClientKey;
  /** The assertion's aud; a string or an array. */
  audience: string | string[];
  jti?: string;
  /** Seconds from now until exp (the server accepts at most 300). */
  lifetimeSeconds?: number;
}

export async function signAssertion(options: AssertionOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: options.clientId,
    sub: options.clientId,
    aud: options.audience,
    jti: options.jti ?? crypto.randomUUID(),
    iat: now,
    exp: now + (options.lifetimeSeconds ?? 60),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.key.alg, kid: options.key.kid, typ: "JWT" })
    .sign(options.key.privateKey);
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs a client_credentials request authenticated by `assertion` to `<issuer>/token`. */
export async function postAssertion(issuer: string, assertion: string, scope?: string): Promise<TokenResponse> {
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
  });
  if (scope !== undefined) form.set("scope", scope);
  const response = await fetch(`${issuer}/token`, { method: "POST", body: form });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
