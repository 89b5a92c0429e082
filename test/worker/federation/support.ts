// Test support for the federation suites: a fake issuer whose discovery document and keys the Worker's outbound
// fetch serves (counted), a client registered with one trust on it, and token requests that present an external
// token as a client assertion, as a SPIFFE assertion or as the jwt-bearer grant.
import { vi } from "vitest";
import type { FederatedTrust } from "../../../src/registry/federated-trust";
import { type FakeIssuer, fakeIssuer, issuerServer, type Profile } from "../../federation/fake-issuers";
import { ISSUER, JWT_BEARER, postToken, registerClient, type TestClient, type TestVars } from "../support";

export const JWT_SPIFFE = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

let counter = 0;
/** An issuer URL unique to the test, so no key set cached by an earlier test (the Cache API persists) is reused. */
export function uniqueIssuerUrl(profile: Profile): string {
  counter += 1;
  const slug = `${counter}${crypto.randomUUID().slice(0, 6)}`;
  // GitHub Enterprise issuers live under GitHub's: the shared-issuer rule covers them, as it does GitHub's own.
  return profile === "github"
    ? `https://token.actions.githubusercontent.com/ent${slug}`
    : `https://${profile}-${slug}.issuer.example`;
}

export interface FederatedClient extends TestClient {
  issuer: FakeIssuer;
  /** Outbound requests the Worker made, by URL. */
  calls: string[];
}

/**
 * A fake issuer of `profile`, served through the mocked global fetch, and a client with one trust on it (its subject
 * and pins by default, `trust` overriding) and no key of its own.
 */
export async function federatedClient(
  profile: Profile,
  trust: Partial<FederatedTrust> = {},
  record: Record<string, unknown> = {},
): Promise<FederatedClient> {
  const issuer = await fakeIssuer(profile, uniqueIssuerUrl(profile));
  const server = issuerServer([issuer]);
  vi.spyOn(globalThis, "fetch").mockImplementation(server.fetcher);
  const entry = { issuer: issuer.issuer, subject: issuer.subject, claims: issuer.pins, ...trust };
  const client = await registerClient({
    record: { jwks: undefined, federation: [entry as FederatedTrust], ...record },
  });
  return { ...client, issuer, calls: server.calls };
}

/** POSTs an external token for `clientId` as a client_credentials client assertion (jwt-bearer or jwt-spiffe). */
export function federatedRequest(
  token: string,
  clientId: string | undefined,
  options: { spiffe?: boolean; extra?: Record<string, string>; headers?: Record<string, string>; vars?: TestVars } = {},
) {
  return postToken(
    {
      grant_type: "client_credentials",
      client_assertion_type: options.spiffe ? JWT_SPIFFE : JWT_BEARER,
      client_assertion: token,
      client_id: clientId,
      ...options.extra,
    },
    { ...(options.headers ? { headers: options.headers } : {}), ...(options.vars ? { vars: options.vars } : {}) },
  );
}

/** POSTs an external token as the RFC 7523 section 2.1 grant. */
export function grantRequest(token: string, clientId: string | undefined) {
  return postToken({ grant_type: JWT_BEARER_GRANT, assertion: token, client_id: clientId });
}

/** A token of the client's issuer for this server, with `claims` changed. */
export function externalToken(client: FederatedClient, claims: Record<string, unknown> = {}, audience = ISSUER) {
  return client.issuer.token(audience, { claims });
}
