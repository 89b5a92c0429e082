// Workload identity federation end to end against the shared `npm run dev` (ALLOW_INSECURE_JWKS_URI=true there, so a
// loopback issuer is fetched): a local server plays four issuers shaped like GitHub Actions, GitLab CI, a Kubernetes
// cluster and a SPIRE server (discovery document and keys), the CLI registers one federated client per profile with
// the documented flags, and each profile's token is traded the way docs/federation.md shows and the access token is
// verified with jose. The one-use tokens are refused a second time; the Kubernetes and SPIRE ones, without jti, are
// reused under --federated-allow-reuse.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type FakeIssuer, fakeIssuer, type Profile } from "../federation/fake-issuers";
import { verifyAccessToken } from "./examples/verify-access-token";
import { cli } from "./support/cli";
import { withAuditLine } from "./support/server-audit";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const serverLog = inject("serverLog");
const AUDIENCE = "https://deploy.e2e.example";

let keyServer: Server;
const issuers = new Map<Profile, FakeIssuer>();

/** The CLI flags that pin each profile's trust, as docs/federation.md registers them. */
const TRUST_FLAGS: Record<Profile, string[]> = {
  github: ["--federated-claim", "repository_owner_id=65432"],
  gitlab: ["--federated-claim", "namespace_id=72"],
  kubernetes: ["--federated-claim", "kubernetes.io.namespace=payments", "--federated-allow-reuse"],
  spiffe: ["--federated-allow-reuse"],
};

const clientIdOf = (profile: Profile) => `e2e-federated-${profile}`;

beforeAll(async () => {
  keyServer = createServer((req, res) => {
    const url = `http://${req.headers.host}${req.url}`;
    for (const fake of issuers.values()) {
      const body =
        url === `${fake.issuer}/.well-known/openid-configuration`
          ? fake.discovery
          : url === fake.discovery.jwks_uri
            ? fake.jwks
            : undefined;
      if (body) {
        res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "max-age=300" });
        res.end(JSON.stringify(body));
        return;
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => keyServer.listen(0, "127.0.0.1", resolve));
  const { port } = keyServer.address() as AddressInfo;
  for (const profile of ["github", "gitlab", "kubernetes", "spiffe"] as const) {
    const fake = await fakeIssuer(profile, `http://127.0.0.1:${port}/${profile}`);
    issuers.set(profile, fake);
    await cli([
      "clients",
      "add",
      clientIdOf(profile),
      "--federated-issuer",
      fake.issuer,
      "--federated-subject",
      fake.subject,
      ...TRUST_FLAGS[profile],
      "--scope",
      "deploy",
      "--audience",
      AUDIENCE,
      "--persist-to",
      persistTo,
    ]);
  }
});

afterAll(async () => {
  await new Promise((resolve) => keyServer?.close(resolve));
});

/** POSTs `form` to the token endpoint and returns the status, the body and the request's audit line. */
async function trade(form: Record<string, string>) {
  return withAuditLine(serverLog, async () => {
    const response = await fetch(`${issuer}/token`, { method: "POST", body: new URLSearchParams(form) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  });
}

const asAssertion = (profile: Profile, token: string) => ({
  grant_type: "client_credentials",
  client_assertion_type:
    profile === "spiffe"
      ? "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe"
      : "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
  client_assertion: token,
  client_id: clientIdOf(profile),
});

const asGrant = (profile: Profile, token: string) => ({
  grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
  assertion: token,
  client_id: clientIdOf(profile),
});

async function expectTraded(profile: Profile, form: Record<string, string>, externalToken: string) {
  const { result, audit } = await trade(form);
  expect({ status: result.status, outcome: audit.outcome, issuer: audit.federated_issuer }).toEqual({
    status: 200,
    outcome: "issued",
    issuer: issuers.get(profile)!.issuer,
  });
  const { payload } = await verifyAccessToken(issuer, result.body.access_token, AUDIENCE);
  expect(payload.client_id).toBe(clientIdOf(profile));
  expect(payload.exp).toBeLessThanOrEqual(decodeJwt(externalToken).exp!);
}

describe.each([
  ["github", "a client assertion", asAssertion],
  ["gitlab", "the jwt-bearer grant", asGrant],
] as const)("a %s token sent as %s", (profile, _how, form) => {
  it("is traded once for an access token jose verifies, and refused the second time", async () => {
    const token = await issuers.get(profile)!.token(issuer);
    await expectTraded(profile, form(profile, token), token);
    const { result, audit } = await trade(form(profile, token));
    expect({ status: result.status, error: result.body.error, reason: audit.reason }).toEqual(
      profile === "gitlab"
        ? { status: 400, error: "invalid_grant", reason: "replayed" }
        : { status: 401, error: "invalid_client", reason: "replayed" },
    );
  });
});

describe.each([
  ["kubernetes", "a Kubernetes service-account token"],
  ["spiffe", "a SPIRE JWT-SVID (jwt-spiffe)"],
] as const)("%s: %s without jti", (profile, _what) => {
  it("is traded again and again under --federated-allow-reuse", async () => {
    const token = await issuers.get(profile)!.token(issuer, { claims: { jti: undefined } });
    await expectTraded(profile, asAssertion(profile, token), token);
    await expectTraded(profile, asAssertion(profile, token), token);
  });
});

describe("a Kubernetes service-account token", () => {
  it("from another namespace is refused, and the audit line says why", async () => {
    const token = await issuers.get("kubernetes")!.token(issuer, {
      claims: { "kubernetes.io": { namespace: "staging" } },
    });
    const { result, audit } = await trade(asAssertion("kubernetes", token));
    expect({ status: result.status, reason: audit.reason, trust: typeof audit.trust }).toEqual({
      status: 401,
      reason: "federated_claim_mismatch",
      trust: "string",
    });
  });
});
