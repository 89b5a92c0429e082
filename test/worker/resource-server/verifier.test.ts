// The resource-server verifier (src/resource-server/) against tokens the real token endpoint issues, with the keys the
// Worker publishes at /.well-known/jwks.json: Bearer and DPoP-bound tokens accepted; each refusal by its reason code,
// status and WWW-Authenticate challenge; the proof's jti spent once, and only when every other check passed; server
// nonces (RFC 9449 section 9) when the verifier is given a secret.
import { env } from "cloudflare:workers";
import { base64url, generateKeyPair, type JSONWebKeySet, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { currentNonce, isCurrentNonce } from "../../../src/dpop/nonce";
import { accessTokenHash } from "../../../src/dpop/signature";
import { signingKeysFor } from "../../../src/issuer/signing-keys";
import { LIMITS } from "../../../src/protocol/constants";
import {
  createVerifier,
  type ProofReplayStore,
  responseFor,
  TokenServiceError,
  type Verifier,
  type VerifierOptions,
} from "../../../src/resource-server";
import { buildProof, type ProofKey, type ProofOptions, proofKey } from "../dpop/proofs";
import {
  buildAssertion,
  expectIssued,
  get,
  ISSUER,
  nowSeconds,
  postToken,
  registerClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";

/** The audience registerClient's records give tokens, and the resource this suite protects. */
const AUDIENCE = "https://api.example.test";
const RESOURCE = `${AUDIENCE}/hello`;
const ALGS = 'algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519"';

const issuerJwks = async () => (await (await get("/.well-known/jwks.json")).json()) as JSONWebKeySet;

function verifier(options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: issuerJwks, ...options });
}

/** A Bearer token from the token endpoint, for a new client, with `scope`. */
async function bearerToken(scope = "read"): Promise<string> {
  const client = await registerClient();
  const body = await expectIssued(await postToken(tokenForm(await buildAssertion(client), { scope })));
  return body.access_token as string;
}

/** A DPoP-bound token from the token endpoint, bound to the proof key of slot 0. */
async function boundToken(scope = "read"): Promise<{ token: string; key: ProofKey; clientId: string }> {
  const client = await registerClient();
  const key = await proofKey();
  const response = await postToken(tokenForm(await buildAssertion(client), { scope }), {
    headers: { DPoP: await buildProof(key, TOKEN_ENDPOINT) },
  });
  return { token: (await expectIssued(response)).access_token as string, key, clientId: client.clientId };
}

/** A token signed with the issuer's own active key, with claims or header changed: one defect at a time. */
async function issuerToken(change: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {}) {
  const { active } = await signingKeysFor(env.SIGNING_KEYS);
  const now = nowSeconds();
  const claims = {
    iss: ISSUER,
    sub: "client-1",
    client_id: "client-1",
    aud: AUDIENCE,
    iat: now,
    exp: now + 600,
    jti: crypto.randomUUID(),
    scope: "read",
    ...change.claims,
  };
  const header = { alg: active.alg, kid: active.kid, typ: "at+jwt", ...change.header };
  return new SignJWT(claims).setProtectedHeader(header).sign(active.privateKey);
}

const request = (headers: HeadersInit, init: { method?: string; url?: string } = {}) =>
  new Request(init.url ?? RESOURCE, { method: init.method ?? "GET", headers });

/** A DPoP request for `token`: a proof by `key` for GET RESOURCE with the token's ath, changed by `options`. */
async function dpopRequest(token: string, key: ProofKey, options: ProofOptions & { scheme?: string } = {}) {
  const { scheme = "DPoP", ...proofOptions } = options;
  const proof = await buildProof(key, RESOURCE, { htm: "GET", ath: await accessTokenHash(token), ...proofOptions });
  return request({ Authorization: `${scheme} ${token}`, DPoP: proof });
}

interface Outcome {
  reason: string;
  status?: number;
  challenge?: string | null;
  error?: string;
  /** The DPoP-Nonce header, when the refusal carries one. */
  nonce?: string;
}

/** What verify decided: "accepted", or the refusal's reason with the status, challenge and error responseFor gives. */
async function outcome(v: Verifier, req: Request, requiredScopes?: string[]): Promise<Outcome> {
  try {
    await v.verify(req, requiredScopes ? { requiredScopes } : undefined);
    return { reason: "accepted" };
  } catch (err) {
    if (!(err instanceof TokenServiceError)) return { reason: `threw ${(err as Error).name}` };
    const response = responseFor(err);
    const body = (await response.json()) as { error: string };
    const nonce = response.headers.get("DPoP-Nonce");
    return {
      reason: err.reason,
      status: response.status,
      challenge: response.headers.get("WWW-Authenticate"),
      error: body.error,
      ...(nonce === null ? {} : { nonce }),
    };
  }
}

const invalidToken = (reason: string, description = "The access token is invalid") => ({
  reason,
  status: 401,
  error: "invalid_token",
  challenge: `Bearer error="invalid_token", error_description="${description}"`,
});

describe("a valid token", () => {
  it("is accepted as Bearer, with its client, scopes and claims", async () => {
    const token = await bearerToken("read write");
    const result = await verifier().verify(request({ Authorization: `Bearer ${token}` }), { requiredScopes: ["read"] });
    expect(result).toMatchObject({ scope: ["read", "write"], claims: { iss: ISSUER, aud: AUDIENCE } });
    expect(result.clientId).toBe(result.claims.client_id);
    expect(result.jkt).toBeUndefined();
  });

  it("is accepted DPoP-bound with a proof for this request, and gives the key thumbprint", async () => {
    const { token, key, clientId } = await boundToken();
    const result = await verifier().verify(await dpopRequest(token, key));
    expect(result).toMatchObject({ clientId, jkt: key.jkt, scope: ["read"] });
  });

  it("is accepted with the scheme in any case and typ application/at+jwt", async () => {
    const token = await issuerToken({ header: { typ: "application/AT+JWT" } });
    expect(await outcome(verifier(), request({ Authorization: `bEaReR ${token}` }))).toEqual({ reason: "accepted" });
  });

  it("is accepted when aud is an array holding this audience", async () => {
    const token = await issuerToken({ claims: { aud: ["https://other.example.test", AUDIENCE] } });
    expect(await outcome(verifier(), request({ Authorization: `Bearer ${token}` }))).toEqual({ reason: "accepted" });
  });
});

describe("the Authorization header", () => {
  it("missing: 401 with both challenges and no error code (RFC 6750 section 3.1)", async () => {
    expect(await outcome(verifier(), request({}))).toEqual({
      reason: "rs_token_missing",
      status: 401,
      error: "invalid_request",
      challenge: `Bearer, DPoP ${ALGS}`,
    });
  });

  it.each([
    [
      "two Authorization headers",
      [
        ["Authorization", "Bearer a.b.c"],
        ["Authorization", "DPoP a.b.c"],
      ],
    ],
    ["a scheme without a token", [["Authorization", "Bearer"]]],
    ["two tokens", [["Authorization", "Bearer a.b.c d.e.f"]]],
    ["garbage in the token", [["Authorization", 'Bearer a"b']]],
  ] as Array<[string, Array<[string, string]>]>)(
    "rejects %s with rs_authorization_invalid (400)",
    async (_n, headers) => {
      const h = new Headers();
      for (const [name, value] of headers) h.append(name, value);
      expect(await outcome(verifier(), request(h))).toEqual({
        reason: "rs_authorization_invalid",
        status: 400,
        error: "invalid_request",
        challenge: `Bearer error="invalid_request", error_description="Send exactly one access token, in one Authorization header with the Bearer or DPoP scheme", DPoP ${ALGS}`,
      });
    },
  );

  it("treats another scheme as no token (rs_token_missing)", async () => {
    expect((await outcome(verifier(), request({ Authorization: "Basic dXNlcjpwYXNz" }))).reason).toBe(
      "rs_token_missing",
    );
  });
});

describe("a token that is not this issuer's access token for this audience", () => {
  const bearer = async (token: string, options: Partial<VerifierOptions> = {}) =>
    outcome(verifier(options), request({ Authorization: `Bearer ${token}` }));

  it("rejects a token whose typ is not at+jwt with rs_token_typ_invalid", async () => {
    expect(await bearer(await issuerToken({ header: { typ: "JWT" } }))).toEqual(invalidToken("rs_token_typ_invalid"));
  });

  it("rejects an unsigned token (alg none) with rs_token_alg_not_allowed", async () => {
    const { active } = await signingKeysFor(env.SIGNING_KEYS);
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const payload = JSON.parse(atob((await issuerToken()).split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    const token = `${encode({ alg: "none", typ: "at+jwt", kid: active.kid })}.${encode(payload)}.`;
    expect(await bearer(token)).toEqual(invalidToken("rs_token_alg_not_allowed"));
  });

  it("rejects a token signed with an algorithm left out of the allowlist with rs_token_alg_not_allowed", async () => {
    expect((await bearer(await issuerToken(), { algorithms: ["RS256"] })).reason).toBe("rs_token_alg_not_allowed");
  });

  it("rejects a token signed by another key under the issuer's kid with rs_token_signature_invalid", async () => {
    const { active } = await signingKeysFor(env.SIGNING_KEYS);
    const { privateKey } = await generateKeyPair("ES256");
    const now = nowSeconds();
    const forged = await new SignJWT({ sub: "c", client_id: "c", scope: "read", jti: "j" })
      .setProtectedHeader({ alg: "ES256", kid: active.kid, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    expect(await bearer(forged)).toEqual(invalidToken("rs_token_signature_invalid"));
  });

  it("rejects a token whose kid the issuer does not publish with rs_token_signature_invalid", async () => {
    expect((await bearer(await issuerToken({ header: { kid: "unknown" } }))).reason).toBe("rs_token_signature_invalid");
  });

  it("rejects a token naming its own key URL (jku) with rs_token_malformed, never fetching it", async () => {
    const token = await issuerToken({ header: { jku: "https://attacker.example/jwks.json" } });
    expect((await bearer(token)).reason).toBe("rs_token_malformed");
  });

  it("rejects a token of another issuer with rs_token_issuer_invalid", async () => {
    const token = await issuerToken({ claims: { iss: "https://attacker.example" } });
    expect(await bearer(token)).toEqual(invalidToken("rs_token_issuer_invalid"));
  });

  it("rejects a token for another audience with rs_token_audience_invalid", async () => {
    const token = await issuerToken({ claims: { aud: "https://other.example.test" } });
    expect(await bearer(token)).toEqual(invalidToken("rs_token_audience_invalid"));
  });

  it("rejects a token whose aud starts with this audience but is not it with rs_token_audience_invalid", async () => {
    const token = await issuerToken({ claims: { aud: `${AUDIENCE}.attacker.example` } });
    expect(await bearer(token)).toEqual(invalidToken("rs_token_audience_invalid"));
    const array = await issuerToken({ claims: { aud: [`${AUDIENCE}/v2`] } });
    expect((await bearer(array)).reason).toBe("rs_token_audience_invalid");
  });

  it("rejects an expired token with rs_token_expired", async () => {
    const token = await bearerToken();
    const later = () => Date.now() + (600 + 31) * 1000;
    expect(await bearer(token, { now: later })).toEqual(invalidToken("rs_token_expired", "The access token expired"));
    expect((await bearer(token, { now: () => Date.now() + (600 + 25) * 1000 })).reason).toBe("accepted");
  });

  it("rejects a token without exp with rs_token_claims_invalid", async () => {
    expect((await bearer(await issuerToken({ claims: { exp: undefined } }))).reason).toBe("rs_token_claims_invalid");
  });

  it("rejects a token issued in the future beyond the skew with rs_token_not_yet_valid", async () => {
    expect((await bearer(await issuerToken({ claims: { iat: nowSeconds() + 60 } }))).reason).toBe(
      "rs_token_not_yet_valid",
    );
    expect((await bearer(await issuerToken({ claims: { nbf: nowSeconds() + 60 } }))).reason).toBe(
      "rs_token_not_yet_valid",
    );
  });

  it("rejects a token whose sub and client_id differ with rs_token_claims_invalid", async () => {
    const token = await issuerToken({ claims: { sub: "client-2" } });
    expect(await bearer(token)).toEqual(invalidToken("rs_token_claims_invalid"));
  });

  it("rejects a token bound some other way than cnf.jkt with rs_token_claims_invalid", async () => {
    const token = await issuerToken({ claims: { cnf: { "x5t#S256": "abc" } } });
    expect((await bearer(token)).reason).toBe("rs_token_claims_invalid");
  });

  it("answers 503 with rs_jwks_unavailable when the issuer's keys cannot be had", async () => {
    const jwks = () => Promise.reject(new Error("down"));
    expect(await bearer(await issuerToken(), { jwks })).toEqual({
      reason: "rs_jwks_unavailable",
      status: 503,
      error: "temporarily_unavailable",
      challenge: null,
    });
  });
});

describe("DPoP-bound tokens (RFC 9449 section 7)", () => {
  const dpopChallenge = (error: string, description: string) =>
    `DPoP error="${error}", error_description="${description}", ${ALGS}`;
  const invalidProof = (reason: string) => ({
    reason,
    status: 401,
    error: "invalid_dpop_proof",
    challenge: dpopChallenge("invalid_dpop_proof", "The DPoP proof is invalid"),
  });

  it("refuses a bound token presented as Bearer, even with a valid proof beside it", async () => {
    const { token, key } = await boundToken();
    expect(await outcome(verifier(), await dpopRequest(token, key, { scheme: "Bearer" }))).toEqual({
      reason: "rs_token_bound_needs_dpop",
      status: 401,
      error: "invalid_token",
      challenge: dpopChallenge(
        "invalid_token",
        "The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof",
      ),
    });
  });

  it("refuses a bound token sent with the DPoP scheme but no DPoP header", async () => {
    const { token } = await boundToken();
    expect(await outcome(verifier(), request({ Authorization: `DPoP ${token}` }))).toEqual({
      reason: "rs_dpop_proof_missing",
      status: 401,
      error: "invalid_dpop_proof",
      challenge: dpopChallenge("invalid_dpop_proof", "A DPoP proof is required"),
    });
  });

  it("refuses an unbound token sent with the DPoP scheme and a proof", async () => {
    const token = await bearerToken();
    expect(await outcome(verifier(), await dpopRequest(token, await proofKey()))).toEqual(
      invalidToken("rs_token_not_bound", "The access token is not DPoP-bound: send it with the Bearer scheme"),
    );
  });

  it("refuses a proof by another key than the token is bound to", async () => {
    const { token } = await boundToken();
    expect(await outcome(verifier(), await dpopRequest(token, await proofKey("ES256", 1)))).toEqual({
      reason: "rs_dpop_key_mismatch",
      status: 401,
      error: "invalid_token",
      challenge: dpopChallenge("invalid_token", "Invalid DPoP key binding"),
    });
  });

  it("refuses a proof whose ath is another token's", async () => {
    const { token, key } = await boundToken();
    const ath = await accessTokenHash(await bearerToken());
    expect(await outcome(verifier(), await dpopRequest(token, key, { ath }))).toEqual(
      invalidProof("dpop_ath_mismatch"),
    );
    expect((await outcome(verifier(), await dpopRequest(token, key, { omit: ["ath"] }))).reason).toBe(
      "dpop_ath_mismatch",
    );
  });

  it("refuses a proof for another method", async () => {
    const { token, key } = await boundToken();
    expect(await outcome(verifier(), await dpopRequest(token, key, { htm: "POST" }))).toEqual(
      invalidProof("dpop_htm_mismatch"),
    );
  });

  it("refuses a proof for another URI", async () => {
    const { token, key } = await boundToken();
    expect(await outcome(verifier(), await dpopRequest(token, key, { htu: `${AUDIENCE}/other` }))).toEqual(
      invalidProof("dpop_htu_mismatch"),
    );
  });

  it("refuses a proof older than the max age", async () => {
    const { token, key } = await boundToken();
    const req = await dpopRequest(token, key, { iat: nowSeconds() - 60 - 31 });
    expect((await outcome(verifier(), req)).reason).toBe("dpop_iat_invalid");
  });
});

describe("the proof's jti", () => {
  it("refuses a replayed proof with dpop_replayed", async () => {
    const { token, key } = await boundToken();
    const v = verifier();
    const req = await dpopRequest(token, key);
    expect((await outcome(v, req.clone())).reason).toBe("accepted");
    expect(await outcome(v, req)).toMatchObject({ reason: "dpop_replayed", status: 401, error: "invalid_dpop_proof" });
  });

  it("refuses the same proof again until iat + max age + skew has passed", async () => {
    const { token, key } = await boundToken();
    let offsetMs = 0;
    const v = verifier({ now: () => Date.now() + offsetMs });
    const req = await dpopRequest(token, key);
    expect((await outcome(v, req.clone())).reason).toBe("accepted");
    offsetMs = 85_000;
    expect((await outcome(v, req)).reason).toBe("dpop_replayed");
  });

  it("is spent in the store given, until iat + max age + skew", async () => {
    const spent: Array<[string, number]> = [];
    const replay: ProofReplayStore = {
      spend: async (jti, until) => {
        spent.push([jti, until]);
        return true;
      },
    };
    const { token, key } = await boundToken();
    const iat = nowSeconds();
    await verifier({ replay }).verify(await dpopRequest(token, key, { jti: "proof-1", iat }));
    expect(spent).toEqual([["proof-1", (iat + 60 + 30) * 1000]]);
  });

  it("answers 503 replay_guard_unavailable when the store fails", async () => {
    const replay: ProofReplayStore = { spend: () => Promise.reject(new Error("down")) };
    const { token, key } = await boundToken();
    expect(await outcome(verifier({ replay }), await dpopRequest(token, key))).toMatchObject({
      reason: "replay_guard_unavailable",
      status: 503,
    });
  });

  it("a proof refused for insufficient scope is not spent: the same proof is then accepted", async () => {
    const { token, key } = await boundToken();
    const v = verifier();
    const req = await dpopRequest(token, key);
    expect((await outcome(v, req.clone(), ["write"])).reason).toBe("rs_scope_insufficient");
    expect((await outcome(v, req)).reason).toBe("accepted");
  });

  it("a proof refused for its key is not spent", async () => {
    const spent: string[] = [];
    const replay: ProofReplayStore = {
      spend: async (jti) => {
        spent.push(jti);
        return true;
      },
    };
    const { token } = await boundToken();
    await outcome(verifier({ replay }), await dpopRequest(token, await proofKey("ES256", 1)));
    expect(spent).toEqual([]);
  });
});

describe("DPoP server nonces (RFC 9449 section 9)", () => {
  const SECRET = "n".repeat(LIMITS.minDpopNonceSecretLength);
  const withNonces = () => verifier({ dpopNonceSecret: SECRET });
  const useDpopNonce = {
    reason: "dpop_nonce_invalid",
    status: 401,
    error: "use_dpop_nonce",
    challenge: `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", ${ALGS}`,
    nonce: expect.any(String),
  };
  const isCurrent = (nonce: string | undefined) => isCurrentNonce(SECRET, nonce ?? "", nowSeconds());

  it("refuses a proof without a nonce with use_dpop_nonce (401) and a current nonce in DPoP-Nonce", async () => {
    const { token, key } = await boundToken();
    const refused = await outcome(withNonces(), await dpopRequest(token, key));
    expect(refused).toEqual(useDpopNonce);
    expect(await isCurrent(refused.nonce)).toBe(true);
  });

  it("accepts a proof carrying the nonce it was given, and returns the current nonce as dpopNonce", async () => {
    const { token, key, clientId } = await boundToken();
    const v = withNonces();
    const { nonce } = await outcome(v, await dpopRequest(token, key));
    const result = await v.verify(await dpopRequest(token, key, { nonce: nonce! }));
    expect(result).toMatchObject({ clientId, jkt: key.jkt });
    expect(await isCurrent(result.dpopNonce)).toBe(true);
  });

  it("refuses a nonce made under another secret with dpop_nonce_invalid", async () => {
    const { token, key } = await boundToken();
    const forged = await currentNonce("f".repeat(LIMITS.minDpopNonceSecretLength), nowSeconds());
    expect(await outcome(withNonces(), await dpopRequest(token, key, { nonce: forged }))).toEqual(useDpopNonce);
  });

  it("refuses a nonce older than the accepted steps with dpop_nonce_invalid", async () => {
    const { token, key } = await boundToken();
    const stale = await currentNonce(
      SECRET,
      nowSeconds() - LIMITS.dpopNonceAcceptedSteps * LIMITS.dpopNonceStepSeconds,
    );
    expect(await outcome(withNonces(), await dpopRequest(token, key, { nonce: stale }))).toEqual(useDpopNonce);
  });

  it("a proof refused for its nonce is not spent: the same proof id with a good nonce is then accepted", async () => {
    const { token, key } = await boundToken();
    const v = withNonces();
    const jti = crypto.randomUUID();
    const { reason, nonce } = await outcome(v, await dpopRequest(token, key, { jti }));
    expect(reason).toBe("dpop_nonce_invalid");
    expect(await outcome(v, await dpopRequest(token, key, { jti, nonce: nonce! }))).toEqual({ reason: "accepted" });
  });

  it("without dpopNonceSecret, accepts a proof without a nonce and returns no dpopNonce", async () => {
    const { token, key } = await boundToken();
    expect((await verifier().verify(await dpopRequest(token, key))).dpopNonce).toBeUndefined();
  });

  it("asks nothing of a Bearer token, and returns no dpopNonce for it", async () => {
    const token = await bearerToken();
    const result = await withNonces().verify(request({ Authorization: `Bearer ${token}` }));
    expect(result.dpopNonce).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ["a dpopNonceSecret shorter than the minimum", "s".repeat(LIMITS.minDpopNonceSecretLength - 1)],
    ["a dpopNonceSecret that is not a string", 42],
  ])("createVerifier refuses %s, naming the option", (_name, secret) => {
    expect(() => verifier({ dpopNonceSecret: secret as string })).toThrow(/dpopNonceSecret/);
  });
});

describe("required scopes", () => {
  it("rejects a token without every required scope with rs_scope_insufficient (403) and scope= in the challenge", async () => {
    const token = await bearerToken("read");
    expect(await outcome(verifier(), request({ Authorization: `Bearer ${token}` }), ["read", "write"])).toEqual({
      reason: "rs_scope_insufficient",
      status: 403,
      error: "insufficient_scope",
      challenge:
        'Bearer error="insufficient_scope", error_description="The access token lacks a scope this resource requires", scope="read write"',
    });
  });
});

describe("createVerifier", () => {
  it.each<[string, Partial<VerifierOptions>, RegExp]>([
    ["an http issuer", { issuer: "http://as.example.test" }, /https/],
    ["an issuer with a path", { issuer: "https://as.example.test/tenant" }, /origin/],
    ["no audience", { audience: "" }, /audience/],
    ["alg none", { algorithms: ["none"] }, /algorithms: none/],
    ["an HMAC alg", { algorithms: ["HS256"] }, /algorithms: HS256/],
    ["a negative skew", { clockSkew: -1 }, /clockSkew/],
    ["a replay store without spend", { replay: {} as ProofReplayStore }, /replay/],
  ])("refuses %s", (_name, options, message) => {
    expect(() => verifier(options)).toThrow(message);
  });

  it("accepts http for localhost", () => {
    expect(() => verifier({ issuer: "http://localhost:8787" })).not.toThrow();
  });
});
