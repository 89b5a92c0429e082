// DPoP at the token endpoint (RFC 9449 sections 4, 5 and 8) through the Worker: a valid proof gets a DPoP token bound
// to its key (cnf.jkt); each proof defect is refused by its reason code without spending the assertion's jti; the
// proof's jti is spent with the assertion's, once; clients flagged dpop_bound_access_tokens, and every client under
// PROFILE=fapi2, get no token without a proof; server nonces when DPOP_NONCE is "required".
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { admin, adminToken, simulateStaleKv } from "../admin/operator";
import { buildProof, type ProofOptions, proofKey } from "../dpop/proofs";
import {
  auditLog,
  auditOf,
  buildAssertion,
  expectIssued,
  ISSUER,
  postToken,
  refusalOf,
  registerClient,
  type TestVars,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";

const invalidProof = (reason: string) => ({ status: 400, error: "invalid_dpop_proof", reason });
const NONCES: TestVars = { DPOP_NONCE: "required", DPOP_NONCE_SECRET: "n".repeat(40) };

/** A token request from a new client (or `client`) with a DPoP header built from `options`. */
async function withProof(
  options: ProofOptions = {},
  vars?: TestVars,
  client?: Awaited<ReturnType<typeof registerClient>>,
) {
  const who = client ?? (await registerClient());
  const key = await proofKey();
  const proof = await buildProof(key, TOKEN_ENDPOINT, options);
  const response = await postToken(tokenForm(await buildAssertion(who)), {
    headers: { DPoP: proof },
    ...(vars ? { vars } : {}),
  });
  return { response, key, proof, client: who };
}

describe("a valid DPoP proof", () => {
  it("gets a DPoP token bound to the proof key: token_type DPoP and cnf.jkt its RFC 7638 thumbprint", async () => {
    const { response, key } = await withProof();
    const body = await expectIssued(response);
    expect(body.token_type).toBe("DPoP");
    expect(decodeJwt(body.access_token as string).cnf).toEqual({ jkt: key.jkt });
    expect(auditOf(response)).toMatchObject({ dpop_jkt: key.jkt, token_type: "DPoP" });
  });

  it("is not needed: without one the token is Bearer, with no cnf", async () => {
    const client = await registerClient();
    const body = await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    expect(body.token_type).toBe("Bearer");
    expect(decodeJwt(body.access_token as string).cnf).toBeUndefined();
  });

  it.each(["ES256", "PS256", "EdDSA", "RS256"] as const)("is accepted signed %s", async (alg) => {
    const client = await registerClient();
    const key = await proofKey(alg);
    const response = await postToken(tokenForm(await buildAssertion(client)), {
      headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT) },
    });
    expect(decodeJwt((await expectIssued(response)).access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it("is advertised in the metadata with its algorithms", async () => {
    const { get } = await import("../support");
    const metadata = (await (await get("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(["ES256", "PS256", "EdDSA"]));
    expect(metadata.dpop_signing_alg_values_supported).not.toContain("HS256");
  });
});

describe("a defective proof is refused with invalid_dpop_proof, and nothing is spent", () => {
  it.each<[string, ProofOptions, string]>([
    ["wrong typ", { header: { typ: "JWT" } }, "dpop_typ_invalid"],
    ["no jwk", { header: { jwk: undefined } }, "dpop_jwk_invalid"],
    ["wrong htm", { htm: "GET" }, "dpop_htm_mismatch"],
    ["htu on another host", { htu: "https://attacker.example/token" }, "dpop_htu_mismatch"],
    ["htu on another path", { htu: `${ISSUER}/admin` }, "dpop_htu_mismatch"],
    ["a stale iat", { iat: Math.floor(Date.now() / 1000) - 600 }, "dpop_iat_invalid"],
    ["an iat in the future", { iat: Math.floor(Date.now() / 1000) + 600 }, "dpop_iat_invalid"],
    ["no jti", { omit: ["jti"] }, "dpop_claims_invalid"],
  ])("%s", async (_name, options, reason) => {
    const { response, client } = await withProof(options);
    expect(await refusalOf(response)).toEqual(invalidProof(reason));
    // The client is not harmed: its next request with a good proof gets a token.
    await expectIssued((await withProof({}, undefined, client)).response);
  });

  it("signed by another key than the one it carries", async () => {
    const other = await proofKey("ES256", 1);
    const { response } = await withProof({ signWith: other });
    expect(await refusalOf(response)).toEqual(invalidProof("dpop_signature_invalid"));
  });

  it("naming the URL it was sent to rather than the configured endpoint", async () => {
    // A loopback ISSUER accepts any loopback origin, so a request can reach the Worker at a URL that is not its
    // token endpoint: the proof must still name the configured one.
    const client = await registerClient();
    const vars = { ISSUER: "http://localhost:8787" };
    const url = "http://127.0.0.1:8787/token";
    const form = async () => tokenForm(await buildAssertion(client, { claims: { aud: vars.ISSUER } }));
    const key = await proofKey();
    const other = await postToken(await form(), { url, vars, headers: { DPoP: await buildProof(key, url) } });
    expect(await refusalOf(other)).toEqual(invalidProof("dpop_htu_mismatch"));
    const configured = await buildProof(key, `${vars.ISSUER}/token`);
    await expectIssued(await postToken(await form(), { url, vars, headers: { DPoP: configured } }));
  });

  it("two DPoP headers", async () => {
    const client = await registerClient();
    const key = await proofKey();
    const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded" });
    headers.append("DPoP", await buildProof(key, TOKEN_ENDPOINT));
    headers.append("DPoP", await buildProof(key, TOKEN_ENDPOINT));
    const response = await postToken(tokenForm(await buildAssertion(client)), {
      headers: Object.fromEntries([["DPoP", headers.get("DPoP")!]]),
    });
    expect(await refusalOf(response)).toEqual(invalidProof("dpop_proof_multiple"));
  });

  it("leaves the assertion unspent: the same assertion then succeeds with a good proof", async () => {
    const client = await registerClient();
    const key = await proofKey();
    const assertion = await buildAssertion(client);
    const bad = await postToken(tokenForm(assertion), {
      headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT, { htm: "GET" }) },
    });
    expect(await refusalOf(bad)).toEqual(invalidProof("dpop_htm_mismatch"));
    await expectIssued(
      await postToken(tokenForm(assertion), { headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT) } }),
    );
  });
});

describe("the proof's jti", () => {
  it("is spent with the assertion's: the same proof with a new assertion is refused as replayed", async () => {
    const client = await registerClient();
    const key = await proofKey();
    const proof = await buildProof(key, TOKEN_ENDPOINT);
    await expectIssued(await postToken(tokenForm(await buildAssertion(client)), { headers: { DPoP: proof } }));
    const replay = await postToken(tokenForm(await buildAssertion(client)), { headers: { DPoP: proof } });
    expect(await refusalOf(replay)).toEqual(invalidProof("dpop_replayed"));
  });

  it("is not spent when the grant is refused, so the proof may be used again", async () => {
    const client = await registerClient();
    const key = await proofKey();
    const proof = await buildProof(key, TOKEN_ENDPOINT);
    const refused = await postToken(tokenForm(await buildAssertion(client), { scope: "admin" }), {
      headers: { DPoP: proof },
    });
    expect((await refusalOf(refused)).reason).toBe("scope_not_allowed");
    await expectIssued(await postToken(tokenForm(await buildAssertion(client)), { headers: { DPoP: proof } }));
  });

  it("is refused on the second of 10 concurrent requests carrying it: exactly one token", async () => {
    const client = await registerClient();
    const key = await proofKey();
    const proof = await buildProof(key, TOKEN_ENDPOINT);
    const assertions = await Promise.all(Array.from({ length: 10 }, () => buildAssertion(client)));
    const responses = await Promise.all(assertions.map((a) => postToken(tokenForm(a), { headers: { DPoP: proof } })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(
      auditLog()
        .map((line) => line.reason ?? line.outcome)
        .sort(),
    ).toEqual([...Array(9).fill("dpop_replayed"), "issued"]);
  });
});

describe("clients that must use DPoP", () => {
  it("a client with dpop_bound_access_tokens gets no token without a proof", async () => {
    const client = await registerClient({ record: { dpop_bound_access_tokens: true } });
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client))))).toEqual(
      invalidProof("dpop_proof_required"),
    );
    const { response } = await withProof({}, undefined, client);
    expect((await expectIssued(response)).token_type).toBe("DPoP");
  });

  it("a client made DPoP-bound through the management API gets no Bearer token on its next request, stale KV or not", async () => {
    const token = await adminToken();
    const client = await registerClient();
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    const patched = await admin(`/clients/${client.clientId}`, token, "PATCH", {
      body: { dpop_bound_access_tokens: true },
    });
    expect(patched.status).toBe(200);
    await simulateStaleKv(client);
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client))))).toEqual(
      invalidProof("dpop_proof_required"),
    );
  });

  it("a client unbound through the management API gets a Bearer token on its next request, though KV still serves it bound", async () => {
    const token = await adminToken();
    const client = await registerClient({ record: { dpop_bound_access_tokens: true } });
    const patched = await admin(`/clients/${client.clientId}`, token, "PATCH", {
      body: { dpop_bound_access_tokens: null },
    });
    expect(patched.status).toBe(200);
    await simulateStaleKv(client);
    const issued = await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    expect(issued.token_type).toBe("Bearer");
  });

  it("under PROFILE=fapi2 no Bearer token is ever issued", async () => {
    const client = await registerClient();
    const vars: TestVars = { PROFILE: "fapi2" };
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client)), { vars }))).toEqual(
      invalidProof("dpop_proof_required"),
    );
    const { response } = await withProof({}, vars, client);
    expect((await expectIssued(response)).token_type).toBe("DPoP");
  });

  it("under PROFILE=fapi2 a proof signed RS256 is refused", async () => {
    const client = await registerClient();
    const key = await proofKey("RS256");
    const response = await postToken(tokenForm(await buildAssertion(client)), {
      headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT) },
      vars: { PROFILE: "fapi2" },
    });
    expect(await refusalOf(response)).toEqual(invalidProof("dpop_alg_not_allowed"));
  });
});

describe("server nonces (DPOP_NONCE=required)", () => {
  it("a proof without a nonce gets use_dpop_nonce and a DPoP-Nonce; with that nonce the token is issued", async () => {
    const client = await registerClient();
    const key = await proofKey();
    const assertion = await buildAssertion(client);
    const first = await postToken(tokenForm(assertion), {
      headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT) },
      vars: NONCES,
    });
    expect(await refusalOf(first)).toEqual({ status: 400, error: "use_dpop_nonce", reason: "dpop_nonce_invalid" });
    const nonce = first.headers.get("DPoP-Nonce");
    expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    // The refused request spent nothing: the client retries with the same assertion and a proof with the nonce.
    const second = await postToken(tokenForm(assertion), {
      headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT, { nonce: nonce! }) },
      vars: NONCES,
    });
    await expectIssued(second);
    expect(second.headers.get("DPoP-Nonce")).toMatch(/^[0-9a-z]+\./);
  });

  it("a forged nonce is refused", async () => {
    const { response } = await withProof({ nonce: "abc.AAAAAAAAAAAAAAAAAAAAAA" }, NONCES);
    expect(await refusalOf(response)).toEqual({ status: 400, error: "use_dpop_nonce", reason: "dpop_nonce_invalid" });
  });

  it("without DPOP_NONCE a proof needs no nonce and answers carry none", async () => {
    const { response } = await withProof();
    await expectIssued(response);
    expect(response.headers.get("DPoP-Nonce")).toBeNull();
  });
});
