// Workload identity federation through the Worker: external tokens shaped like GitHub Actions, GitLab CI, Kubernetes
// and SPIFFE ones traded for access tokens, each rule of a trust refusing with its own reason code, the jwt-bearer
// grant's invalid_grant, reuse only where the trust allows it, the access token never outliving the external token,
// and a storm of unknown kids costing at most one fetch of the issuer's keys per cooldown.
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { trustKeyId } from "../../../src/registry/federated-trust";
import { fakeIssuer, issuerServer } from "../../federation/fake-issuers";
import { admin, adminRefusalOf, adminToken } from "../admin/operator";
import { buildProof, proofKey } from "../dpop/proofs";
import { changeClient, inspect, registerIntrospector, revoke } from "../issued-tokens/support";
import {
  auditLog,
  auditOf,
  buildAssertion,
  clientKey,
  expectIssued,
  ISSUER,
  invalidClient,
  nowSeconds,
  postToken,
  refusalOf,
  registerClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";
import { externalToken, federatedClient, federatedRequest, grantRequest, uniqueIssuerUrl } from "./support";

describe("a GitHub Actions token", () => {
  it("is traded for an access token that ends no later than it, bound to the trust, audited without the token", async () => {
    const client = await federatedClient("github");
    const token = await externalToken(client);
    const response = await federatedRequest(token, client.clientId);
    const body = await expectIssued(response);
    const claims = decodeJwt(body.access_token as string);
    const external = decodeJwt(token);
    expect(claims.exp).toBeLessThanOrEqual(external.exp!);
    expect({ sub: claims.sub, client_id: claims.client_id, client_key: claims.client_key }).toEqual({
      sub: client.clientId,
      client_id: client.clientId,
      client_key: await trustKeyId({ issuer: client.issuer.issuer, subject: client.issuer.subject }),
    });
    const line = auditOf(response);
    expect(line).toMatchObject({
      client_id: client.clientId,
      claimed_client_id: client.clientId,
      federated_issuer: client.issuer.issuer,
      federated_subject: client.issuer.subject,
      trust: claims.client_key,
    });
    expect(line.federated_jti_sha256).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(line)).not.toContain(external.jti);
    // Discovery, then the key set it names: nothing else, nothing the token named.
    expect(client.calls).toEqual([
      `${client.issuer.issuer}/.well-known/openid-configuration`,
      client.issuer.discovery.jwks_uri,
    ]);
  });

  it("is accepted once: the same token again is a replay", async () => {
    const client = await federatedClient("github");
    const token = await externalToken(client);
    await expectIssued(await federatedRequest(token, client.clientId));
    expect(await refusalOf(await federatedRequest(token, client.clientId))).toEqual(invalidClient("replayed"));
  });

  it("gives an access token that ends when the external token does, if that is sooner than the TTL", async () => {
    const client = await federatedClient("github");
    const token = await externalToken(client, { exp: nowSeconds() + 40 });
    const body = await expectIssued(await federatedRequest(token, client.clientId));
    expect(body.expires_in).toBeLessThanOrEqual(40);
    expect(decodeJwt(body.access_token as string).exp).toBeLessThanOrEqual(decodeJwt(token).exp!);
  });

  it.each([
    ["another subject", { sub: "repo:octo-org/octo-repo:ref:refs/heads/feature" }, "federated_subject_mismatch"],
    ["another owner", { repository_owner_id: "99999" }, "federated_claim_mismatch"],
    ["no owner claim", { repository_owner_id: undefined }, "federated_claim_mismatch"],
    ["another audience", { aud: "https://other.example" }, "federated_audience_mismatch"],
    ["the issuer among other audiences", { aud: [ISSUER, "https://other.example"] }, "federated_audience_mismatch"],
    ["an expired token", { exp: nowSeconds() - 60, iat: nowSeconds() - 360 }, "expired"],
    [
      "a token older than the maximum age",
      { iat: nowSeconds() - 3_000, exp: nowSeconds() + 60 },
      "federated_token_too_old",
    ],
    ["no iat (its age is unknown)", { iat: undefined }, "federated_iat_missing"],
    ["no jti, under a trust that spends it", { jti: undefined }, "federated_jti_missing"],
    ["a token not yet valid", { nbf: nowSeconds() + 600 }, "not_yet_valid"],
    ["an iat in the future", { iat: nowSeconds() + 600, nbf: undefined }, "iat_in_future"],
  ])("refuses %s", async (_name, claims, reason) => {
    const client = await federatedClient("github");
    const token = await externalToken(client, claims);
    expect(await refusalOf(await federatedRequest(token, client.clientId))).toEqual(invalidClient(reason as never));
  });

  it("refuses a token from an issuer the client has no trust for", async () => {
    const client = await federatedClient("github");
    const stranger = await fakeIssuer("github", uniqueIssuerUrl("github"));
    const token = await stranger.token(ISSUER);
    expect(await refusalOf(await federatedRequest(token, client.clientId))).toEqual(
      invalidClient("federated_trust_missing"),
    );
  });

  it("refuses a token signed by a key the issuer does not publish, under its kid or another", async () => {
    const client = await federatedClient("github");
    const { privateKey } = await generateKeyPair("RS256");
    const claims = decodeJwt(await externalToken(client));
    for (const [kid, reason] of [
      [client.issuer.kid, "signature_invalid"],
      ["unpublished-kid", "no_matching_key"],
    ] as const) {
      const forged = await new SignJWT({ ...claims, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
        .sign(privateKey);
      expect(await refusalOf(await federatedRequest(forged, client.clientId))).toEqual(invalidClient(reason));
    }
  });

  it("refuses a key in the token's header, and an algorithm outside the allowlist, as for any assertion", async () => {
    const client = await federatedClient("github");
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const claims = decodeJwt(await externalToken(client));
    const withJwk = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", jwk: await exportJWK(publicKey) })
      .sign(privateKey);
    expect(await refusalOf(await federatedRequest(withJwk, client.clientId))).toEqual(
      invalidClient("header_key_material"),
    );
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("x".repeat(32)));
    expect(await refusalOf(await federatedRequest(hmac, client.clientId))).toEqual(invalidClient("alg_not_allowed"));
  });

  it("without client_id is refused as federated_client_id_missing, whichever way it is sent", async () => {
    const client = await federatedClient("github");
    const token = await externalToken(client);
    expect(await refusalOf(await federatedRequest(token, undefined))).toEqual(
      invalidClient("federated_client_id_missing"),
    );
    expect(await refusalOf(await federatedRequest(token, undefined, { spiffe: true }))).toEqual(
      invalidClient("federated_client_id_missing"),
    );
    expect(await refusalOf(await grantRequest(token, undefined))).toEqual({
      status: 400,
      error: "invalid_grant",
      reason: "federated_client_id_missing",
    });
  });

  it("sent for a client without any trust is a client_id mismatch, as before federation", async () => {
    const plain = await registerClient();
    const client = await federatedClient("github");
    const token = await externalToken(client);
    expect(await refusalOf(await federatedRequest(token, plain.clientId))).toEqual(invalidClient("client_id_mismatch"));
  });

  it("is refused for a disabled client", async () => {
    const client = await federatedClient("github", {}, { status: "disabled" });
    const token = await externalToken(client);
    expect(await refusalOf(await federatedRequest(token, client.clientId))).toEqual(invalidClient("client_disabled"));
  });
});

describe("a jti", () => {
  it("of an external token and of the client's own assertion are spent apart: neither blocks the other", async () => {
    const key = await clientKey("ES256");
    const client = await federatedClient("github", {}, { jwks: { keys: [key.publicJwk] } });
    const jti = crypto.randomUUID();
    await expectIssued(await postToken(tokenForm(await buildAssertion({ ...client, key }, { claims: { jti } }))));
    await expectIssued(await federatedRequest(await externalToken(client, { jti }), client.clientId));
  });
});

describe("the jwt-bearer grant (RFC 7523 section 2.1)", () => {
  it("trades a GitLab CI token; its refusals are invalid_grant with the same reason codes", async () => {
    const client = await federatedClient("gitlab");
    const token = await externalToken(client);
    await expectIssued(await grantRequest(token, client.clientId));
    expect(await refusalOf(await grantRequest(token, client.clientId))).toEqual({
      status: 400,
      error: "invalid_grant",
      reason: "replayed",
    });
    const wrongProject = await externalToken(client, { namespace_id: "73" });
    expect(await refusalOf(await grantRequest(wrongProject, client.clientId))).toEqual({
      status: 400,
      error: "invalid_grant",
      reason: "federated_claim_mismatch",
    });
  });
});

describe("a Kubernetes service-account token", () => {
  it("without jti is accepted again and again under allow_reuse, and refused without it", async () => {
    const client = await federatedClient("kubernetes", { allow_reuse: true });
    const token = await externalToken(client, { jti: undefined });
    await expectIssued(await federatedRequest(token, client.clientId));
    await expectIssued(await federatedRequest(token, client.clientId));
    const strict = await federatedClient("kubernetes");
    const strictToken = await externalToken(strict, { jti: undefined });
    expect(await refusalOf(await federatedRequest(strictToken, strict.clientId))).toEqual(
      invalidClient("federated_jti_missing"),
    );
  });

  it("is checked by a nested claim (kubernetes.io.namespace) and its array audience", async () => {
    const client = await federatedClient("kubernetes", { allow_reuse: true });
    const otherNamespace = await externalToken(client, {
      "kubernetes.io": { namespace: "staging", serviceaccount: { name: "deployer" } },
    });
    expect(await refusalOf(await federatedRequest(otherNamespace, client.clientId))).toEqual(
      invalidClient("federated_claim_mismatch"),
    );
    await expectIssued(await federatedRequest(await externalToken(client), client.clientId));
  });

  it("from a private cluster is verified with the trust's static key set, and nothing is fetched", async () => {
    const issuer = await fakeIssuer("kubernetes", "https://kubernetes.default.svc.cluster.local");
    const client = await registerClient({
      record: {
        jwks: undefined,
        federation: [{ issuer: issuer.issuer, subject: issuer.subject, jwks: issuer.jwks as never, allow_reuse: true }],
      },
    });
    const calls: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      calls.push(String(input));
      return new Response("no", { status: 500 });
    });
    await expectIssued(await federatedRequest(await issuer.token(ISSUER), client.clientId));
    expect(calls).toEqual([]);
  });

  it("older than the trust's max_age is refused, younger is accepted", async () => {
    const client = await federatedClient("kubernetes", { allow_reuse: true, max_age: 120 });
    const old = await client.issuer.token(ISSUER, { now: nowSeconds() - 200 });
    expect(await refusalOf(await federatedRequest(old, client.clientId))).toEqual(
      invalidClient("federated_token_too_old"),
    );
    await expectIssued(
      await federatedRequest(await client.issuer.token(ISSUER, { now: nowSeconds() - 60 }), client.clientId),
    );
  });
});

describe("a SPIFFE JWT-SVID", () => {
  it("(which SPIRE mints without jti) is accepted as a jwt-spiffe client assertion under allow_reuse only", async () => {
    const strict = await federatedClient("spiffe");
    const token = await externalToken(strict);
    expect(await refusalOf(await federatedRequest(token, strict.clientId, { spiffe: true }))).toEqual(
      invalidClient("federated_jti_missing"),
    );
    const client = await federatedClient("spiffe", { allow_reuse: true });
    const svid = await externalToken(client);
    await expectIssued(await federatedRequest(svid, client.clientId, { spiffe: true }));
    await expectIssued(await federatedRequest(svid, client.clientId, { spiffe: true }));
  });

  it("with a jti is spent once", async () => {
    const client = await federatedClient("spiffe");
    const token = await externalToken(client, { jti: crypto.randomUUID() });
    await expectIssued(await federatedRequest(token, client.clientId, { spiffe: true }));
    expect(await refusalOf(await federatedRequest(token, client.clientId, { spiffe: true }))).toEqual(
      invalidClient("replayed"),
    );
  });
});

describe("a trust that requires DPoP", () => {
  it("refuses a request without a proof and binds the token with one", async () => {
    const client = await federatedClient("github", { require_dpop: true });
    expect(await refusalOf(await federatedRequest(await externalToken(client), client.clientId))).toEqual({
      status: 400,
      error: "invalid_dpop_proof",
      reason: "dpop_proof_required",
    });
    const key = await proofKey();
    const proof = await buildProof(key, TOKEN_ENDPOINT);
    const body = await expectIssued(
      await federatedRequest(await externalToken(client), client.clientId, { headers: { DPoP: proof } }),
    );
    expect({ type: body.token_type, jkt: (decodeJwt(body.access_token as string).cnf as { jkt: string }).jkt }).toEqual(
      { type: "DPoP", jkt: key.jkt },
    );
  });
});

describe("the issuer's keys", () => {
  it("are fetched at most once more per cooldown, however many unknown kids a storm of tokens names", async () => {
    const client = await federatedClient("github");
    await expectIssued(await federatedRequest(await externalToken(client), client.clientId));
    const { privateKey } = await generateKeyPair("RS256");
    const claims = decodeJwt(await externalToken(client));
    const before = auditLog().length;
    const storm = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const forged = await new SignJWT({ ...claims, jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: "RS256", kid: `unknown-${i}`, typ: "JWT" })
          .sign(privateKey);
        return federatedRequest(forged, client.clientId);
      }),
    );
    expect(storm.map((response) => response.status)).toEqual(Array(20).fill(401));
    const reasons = auditLog()
      .slice(before)
      .map((line) => line.reason);
    expect(reasons).toEqual(Array(20).fill("no_matching_key"));
    const keyFetches = client.calls.filter((url) => url === client.issuer.discovery.jwks_uri);
    expect(keyFetches.length).toBeLessThanOrEqual(2);
    expect(client.calls.filter((url) => url.endsWith("/openid-configuration"))).toHaveLength(1);
  });

  it("are not taken from a discovery document that names another issuer, or a jwks_uri on an IP address", async () => {
    for (const discovery of [{ issuer: "https://evil.example" }, { jwks_uri: "https://10.0.0.1/keys" }]) {
      const client = await federatedClient("github");
      Object.assign(client.issuer.discovery, discovery);
      expect(await refusalOf(await federatedRequest(await externalToken(client), client.clientId))).toEqual(
        invalidClient("federated_issuer_unavailable"),
      );
      expect(client.calls.some((url) => url.includes("10.0.0.1") || url.includes("evil"))).toBe(false);
    }
  });

  it("are never fetched from a loopback issuer unless ALLOW_INSECURE_JWKS_URI is set", async () => {
    const issuer = await fakeIssuer("github", "http://127.0.0.1:9/ci");
    const server = issuerServer([issuer]);
    vi.spyOn(globalThis, "fetch").mockImplementation(server.fetcher);
    const client = await registerClient({
      record: { jwks: undefined, federation: [{ issuer: issuer.issuer, subject: issuer.subject }] },
    });
    expect(await refusalOf(await federatedRequest(await issuer.token(ISSUER), client.clientId))).toEqual(
      invalidClient("federated_issuer_unavailable"),
    );
    expect(server.calls).toEqual([]);
  });
});

describe("a federated token's life", () => {
  it("ends when its trust leaves the record, or is named in retired_kids, while other trusts' tokens live on", async () => {
    const client = await federatedClient("github");
    const second = await fakeIssuer("gitlab", uniqueIssuerUrl("gitlab"));
    const both = [
      ...client.record.federation!,
      { issuer: second.issuer, subject: second.subject, claims: second.pins },
    ];
    vi.spyOn(globalThis, "fetch").mockImplementation(issuerServer([client.issuer, second]).fetcher);
    await changeClient(client.clientId, { kind: "patch", patch: { federation: both } });
    const viaGithub = (await expectIssued(await federatedRequest(await externalToken(client), client.clientId)))
      .access_token as string;
    const viaGitlab = (await expectIssued(await federatedRequest(await second.token(ISSUER), client.clientId)))
      .access_token as string;
    const caller = await registerIntrospector();
    expect((await inspect(viaGithub, caller)).state).toBe("active");

    await changeClient(client.clientId, { kind: "patch", patch: { federation: [both[1]] } });
    expect((await inspect(viaGithub, caller)).state).toBe("key_removed");
    expect((await inspect(viaGitlab, caller)).state).toBe("active");

    const gitlabTrust = decodeJwt(viaGitlab).client_key as string;
    await changeClient(client.clientId, { kind: "patch", patch: { retired_kids: [gitlabTrust] } });
    expect((await inspect(viaGitlab, caller)).state).toBe("key_retired");
    expect(await refusalOf(await federatedRequest(await second.token(ISSUER), client.clientId))).toEqual(
      invalidClient("key_retired"),
    );
  });
});

describe("the management API", () => {
  it("registers a federated client whose token then trades, and refuses an unpinned GitHub trust saying why", async () => {
    const token = await adminToken();
    const issuer = await fakeIssuer("github", uniqueIssuerUrl("github"));
    vi.spyOn(globalThis, "fetch").mockImplementation(issuerServer([issuer]).fetcher);
    const record = {
      client_id: `federated-${crypto.randomUUID().slice(0, 8)}`,
      status: "active",
      scopes: ["deploy"],
      audiences: ["https://api.example.test"],
      federation: [{ issuer: issuer.issuer, subject: issuer.subject, claims: issuer.pins }],
    };
    expect((await admin("/clients", token, "POST", { body: record })).status).toBe(201);
    await expectIssued(await federatedRequest(await issuer.token(ISSUER), record.client_id));

    const unpinned = {
      ...record,
      client_id: `${record.client_id}-b`,
      federation: [{ issuer: issuer.issuer, subject: "x" }],
    };
    const refused = await admin("/clients", token, "POST", { body: unpinned });
    const { error_description } = (await refused.clone().json()) as { error_description: string };
    expect(await adminRefusalOf(refused)).toEqual({
      status: 400,
      error: "invalid_request",
      reason: "admin_request_invalid",
    });
    expect(error_description).toContain("pin the owner with a claim condition");
  });
});

describe("revocation by a federated client", () => {
  it("authenticates with a fresh external token and revokes the client's own access token", async () => {
    const client = await federatedClient("github");
    const accessToken = (await expectIssued(await federatedRequest(await externalToken(client), client.clientId)))
      .access_token as string;
    const response = await revoke(accessToken, {
      assertion: await externalToken(client),
      clientId: client.clientId,
    });
    expect({ status: response.status, outcome: auditOf(response, "revocation_request").outcome }).toEqual({
      status: 200,
      outcome: "answered",
    });
    const caller = await registerIntrospector();
    expect((await inspect(accessToken, caller)).state).toBe("token_revoked");
  });
});
