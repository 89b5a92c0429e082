// Adversarial suite: one named case per known attack on JWT client authentication, through the real Worker. Every
// case starts from a valid assertion, breaks one thing, and asserts the wire answer and the audit reason code, so a
// case passes only when the rule it names is what refused it. Positive controls show the building blocks work.
import { exports } from "cloudflare:workers";
import { exportJWK, exportSPKI, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { Reason } from "../../src/protocol/errors";
import {
  audited,
  auditLog,
  buildAssertion,
  clientKey,
  expectIssued,
  ISSUER,
  invalidClient,
  JWT_BEARER,
  nowSeconds,
  postToken,
  refusalOf,
  registerClient,
  type TestClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../worker/support";

const b64 = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
const b64json = (value: unknown) => b64(new TextEncoder().encode(JSON.stringify(value)));
const b64text = (text: string) => b64(new TextEncoder().encode(text));
const fromB64 = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

function validClaims(client: TestClient, extra: Record<string, unknown> = {}) {
  const now = nowSeconds();
  return {
    iss: client.clientId,
    sub: client.clientId,
    aud: ISSUER,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 60,
    ...extra,
  };
}

/** Signs raw header and payload text with `key` (WebCrypto directly, so jose's own checks never interfere). */
async function signRaw(key: CryptoKey, headerText: string, payloadText: string): Promise<string> {
  const input = `${b64text(headerText)}.${b64text(payloadText)}`;
  const params = key.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
  const signature = new Uint8Array(await crypto.subtle.sign(params, key, new TextEncoder().encode(input)));
  return `${input}.${b64(signature)}`;
}

/** Re-signs raw text with the client's own key, so the only defect is the one under test. */
function signAsClient(client: TestClient, headerText: string, payloadText: string): Promise<string> {
  return signRaw(client.key.privateKey, headerText, payloadText);
}

interface Attack {
  name: string;
  /** Builds the hostile assertion for a freshly registered ES256 client. */
  assertion: (client: TestClient) => Promise<string>;
  /** The audit reason the refusal must carry (every one of these is 401 invalid_client on the wire). */
  reason: Reason;
}

const attacks: Attack[] = [
  // Algorithm confusion
  {
    name: "rejects alg none with an empty signature",
    assertion: async (c) => `${b64json({ alg: "none", typ: "JWT" })}.${b64json(validClaims(c))}.`,
    reason: "alg_not_allowed",
  },
  {
    name: "rejects alg None in another case",
    assertion: async (c) => `${b64json({ alg: "None" })}.${b64json(validClaims(c))}.${b64text("x")}`,
    reason: "alg_not_allowed",
  },
  {
    name: "rejects HS256 keyed with the client's public key (PEM)",
    assertion: async (c) => {
      const publicKey = await crypto.subtle.importKey(
        "jwk",
        c.key.publicJwk as JsonWebKey,
        { name: "ECDSA", namedCurve: "P-256" },
        true,
        ["verify"],
      );
      const pem = await exportSPKI(publicKey);
      return new SignJWT(validClaims(c))
        .setProtectedHeader({ alg: "HS256", kid: c.key.kid })
        .sign(new TextEncoder().encode(pem));
    },
    reason: "alg_not_allowed",
  },
  {
    name: "rejects HS256 keyed with the client's public JWK JSON",
    assertion: async (c) =>
      new SignJWT(validClaims(c))
        .setProtectedHeader({ alg: "HS256", kid: c.key.kid })
        .sign(new TextEncoder().encode(JSON.stringify(c.key.publicJwk))),
    reason: "alg_not_allowed",
  },
  // Key injection through the header
  {
    name: "rejects an embedded jwk that verifies the signature",
    assertion: async (c) => {
      const attacker = await clientKey("ES256", 31);
      return new SignJWT(validClaims(c))
        .setProtectedHeader({ alg: "ES256", jwk: attacker.publicJwk })
        .sign(attacker.privateKey);
    },
    reason: "header_key_material",
  },
  {
    name: "rejects a jku pointing at an attacker's JWKS",
    assertion: async (c) => buildAssertion(c, { header: { jku: "https://attacker.example/jwks.json" } }),
    reason: "header_key_material",
  },
  {
    name: "rejects an x5u pointing at an attacker's certificate",
    assertion: async (c) => buildAssertion(c, { header: { x5u: "https://attacker.example/cert.pem" } }),
    reason: "header_key_material",
  },
  {
    name: "rejects an x5c chain in the header",
    assertion: async (c) => buildAssertion(c, { header: { x5c: ["MIIBszCCAVmgAwIBAgIU"] } }),
    reason: "header_key_material",
  },
  // ECDSA "psychic signatures" (CVE-2022-21449)
  {
    name: "rejects an ES256 signature of all zeros (r = s = 0)",
    assertion: async (c) => {
      const [h, p] = (await buildAssertion(c)).split(".");
      return `${h}.${p}.${b64(new Uint8Array(64))}`;
    },
    reason: "signature_invalid",
  },
  {
    name: "rejects an ES256 signature with r = 0 and s = valid",
    assertion: async (c) => {
      const [h, p, s] = (await buildAssertion(c)).split(".");
      const sig = fromB64(s!);
      sig.fill(0, 0, 32);
      return `${h}.${p}.${b64(sig)}`;
    },
    reason: "signature_invalid",
  },
  {
    name: "rejects a DER-encoded ECDSA signature instead of raw r||s",
    assertion: async (c) => {
      const [h, p] = (await buildAssertion(c)).split(".");
      return `${h}.${p}.${b64(Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]))}`;
    },
    reason: "signature_invalid",
  },
  // Malformed compact serialisation
  { name: "rejects an empty assertion-like string of dots", assertion: async () => "..", reason: "header_invalid" },
  {
    name: "rejects a single segment",
    assertion: async () => b64json({ alg: "ES256" }),
    reason: "assertion_malformed",
  },
  {
    name: "rejects whitespace inside the compact form",
    assertion: async (c) => (await buildAssertion(c)).replace(".", " ."),
    reason: "header_invalid",
  },
  {
    name: "rejects a trailing dot",
    assertion: async (c) => `${await buildAssertion(c)}.`,
    reason: "assertion_malformed",
  },
  {
    name: "rejects a JWE (nested/encrypted token)",
    assertion: async () => `${b64json({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" })}.AAAA.AAAA.AAAA.AAAA`,
    reason: "assertion_encrypted",
  },
  {
    name: "rejects JWE header members in a three-segment token",
    assertion: async (c) =>
      signAsClient(c, JSON.stringify({ alg: "ES256", kid: c.key.kid, enc: "A256GCM" }), JSON.stringify(validClaims(c))),
    reason: "assertion_encrypted",
  },
  {
    name: "rejects a nested JWT as payload (cty JWT)",
    assertion: async (c) => {
      const inner = await buildAssertion(c);
      return signAsClient(c, JSON.stringify({ alg: "ES256", kid: c.key.kid, cty: "JWT" }), JSON.stringify(inner));
    },
    reason: "claims_invalid",
  },
  // Bad base64url
  {
    name: "rejects base64 with padding in the payload",
    assertion: async (c) => {
      const [h, p, s] = (await buildAssertion(c)).split(".");
      return `${h}.${p}==.${s}`;
    },
    reason: "claims_invalid",
  },
  {
    name: "rejects the standard base64 alphabet",
    assertion: async (c) => {
      const [h, p, s] = (await buildAssertion(c)).split(".");
      return `${h}.${p!.replace(/-/g, "+").replace(/_/g, "/")}+/.${s}`;
    },
    reason: "claims_invalid",
  },
  // JSON that is not an object, or ambiguous
  {
    name: "rejects a header that is a JSON string",
    assertion: async (c) => signAsClient(c, '"ES256"', JSON.stringify(validClaims(c))),
    reason: "header_invalid",
  },
  {
    name: "rejects claims that are a JSON array",
    assertion: async (c) => signAsClient(c, JSON.stringify({ alg: "ES256", kid: c.key.kid }), "[1,2]"),
    reason: "claims_invalid",
  },
  {
    name: "rejects claims that are JSON null",
    assertion: async (c) => signAsClient(c, JSON.stringify({ alg: "ES256", kid: c.key.kid }), "null"),
    reason: "claims_invalid",
  },
  {
    name: "rejects duplicate aud members (wrong first, right last)",
    assertion: async (c) => {
      const claims = JSON.stringify(validClaims(c)).replace(/^\{/, '{"aud":"https://attacker.example",');
      return signAsClient(c, JSON.stringify({ alg: "ES256", kid: c.key.kid }), claims);
    },
    reason: "claims_invalid",
  },
  {
    name: "rejects duplicate alg members in the header",
    assertion: async (c) =>
      signAsClient(c, `{"alg":"none","alg":"ES256","kid":"${c.key.kid}"}`, JSON.stringify(validClaims(c))),
    reason: "header_invalid",
  },
  // crit and b64
  {
    name: "rejects crit naming an unknown extension",
    assertion: async (c) =>
      signAsClient(
        c,
        JSON.stringify({ alg: "ES256", kid: c.key.kid, crit: ["x-ext"], "x-ext": 1 }),
        JSON.stringify(validClaims(c)),
      ),
    reason: "crit_not_supported",
  },
  {
    name: "rejects b64:false (unencoded payload)",
    assertion: async (c) =>
      signAsClient(
        c,
        JSON.stringify({ alg: "ES256", kid: c.key.kid, crit: ["b64"], b64: false }),
        JSON.stringify(validClaims(c)),
      ),
    reason: "crit_not_supported",
  },
  // Claims of the wrong type or out of range
  {
    name: "rejects exp as a string",
    assertion: async (c) => buildAssertion(c, { claims: { exp: String(nowSeconds() + 60) } }),
    reason: "claims_invalid",
  },
  {
    name: "rejects exp far in the future (1e20)",
    assertion: async (c) => buildAssertion(c, { claims: { exp: 1e20 }, omit: ["iat"] }),
    reason: "lifetime_too_long",
  },
  {
    name: "rejects a negative exp",
    assertion: async (c) => buildAssertion(c, { claims: { exp: -1 } }),
    reason: "claims_invalid",
  },
  {
    name: "rejects iat as a boolean",
    assertion: async (c) => buildAssertion(c, { claims: { iat: true } }),
    reason: "claims_invalid",
  },
  {
    name: "rejects jti as an object",
    assertion: async (c) => buildAssertion(c, { claims: { jti: { id: 1 } } }),
    reason: "claims_invalid",
  },
  {
    name: "rejects an oversized jti",
    assertion: async (c) => buildAssertion(c, { claims: { jti: "j".repeat(1000) } }),
    reason: "claims_invalid",
  },
  {
    name: "rejects iss as an array",
    assertion: async (c) => buildAssertion(c, { claims: { iss: [c.clientId], sub: [c.clientId] } }),
    reason: "claims_invalid",
  },
  // Near-miss audiences (the issuer, exactly, as a string)
  {
    name: "rejects aud with a trailing slash",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER}/` } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud in upper case",
    assertion: async (c) => buildAssertion(c, { claims: { aud: ISSUER.toUpperCase() } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud with a trailing space",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER} ` } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud with a default port",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER}:443` } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud as the token endpoint (no legacy flag)",
    assertion: async (c) => buildAssertion(c, { claims: { aud: TOKEN_ENDPOINT } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud as the issuer twice in an array",
    assertion: async (c) => buildAssertion(c, { claims: { aud: [ISSUER, ISSUER] } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud as the token endpoint alone in an array (no legacy flag)",
    assertion: async (c) => buildAssertion(c, { claims: { aud: [TOKEN_ENDPOINT] } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud listing the issuer beside an attacker's server (audience injection)",
    assertion: async (c) => buildAssertion(c, { claims: { aud: ["https://attacker.example", ISSUER] } }),
    reason: "aud_invalid",
  },
  {
    name: "rejects aud as the metadata URL",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER}/.well-known/oauth-authorization-server` } }),
    reason: "aud_invalid",
  },
  // Explicit types of other JWT kinds
  ...["at+jwt", "dpop+jwt", "secevent+jwt", "logout+jwt", "oauth-authz-req+jwt", "JOSE", "jwt+json"].map((typ) => ({
    name: `rejects typ ${typ}`,
    assertion: (c: TestClient) => buildAssertion(c, { header: { typ } }),
    reason: "typ_not_allowed" as const,
  })),
  // Key / alg mismatch
  {
    name: "rejects an RS256 header over an EC key (key type must fit)",
    assertion: async (c) => {
      const rsa = await clientKey("RS256");
      return buildAssertion(c, { signWith: { ...rsa, kid: c.key.kid } });
    },
    reason: "no_matching_key",
  },
  {
    name: "rejects an ES512 header with a P-256 registered key (curve must fit)",
    assertion: async (c) => {
      const p521 = await clientKey("ES512");
      return buildAssertion(c, { signWith: { ...p521, kid: c.key.kid } });
    },
    reason: "no_matching_key",
  },
  // Unknown and hostile kids (kids are compared as exact strings in memory: no path or query is ever built from one)
  {
    name: "rejects an unknown kid",
    assertion: async (c) => buildAssertion(c, { header: { kid: "not-registered" } }),
    reason: "no_matching_key",
  },
  {
    name: "rejects a kid that is the registered one plus a NUL byte",
    assertion: async (c) => buildAssertion(c, { header: { kid: `${c.key.kid}\u0000` } }),
    reason: "no_matching_key",
  },
  {
    name: "rejects an oversized kid",
    assertion: async (c) => buildAssertion(c, { header: { kid: "k".repeat(300) } }),
    reason: "header_invalid",
  },
  {
    name: "rejects a kid that is an object",
    assertion: async (c) => buildAssertion(c, { header: { kid: { $ne: "" } } }),
    reason: "header_invalid",
  },
];

describe("attacks on the client assertion", () => {
  it("accepts an assertion built by the same helpers when nothing is broken (positive control)", async () => {
    const client = await registerClient();
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
    const raw = await signAsClient(
      client,
      JSON.stringify({ alg: "ES256", kid: client.key.kid }),
      JSON.stringify(validClaims(client)),
    );
    await expectIssued(await postToken(tokenForm(raw)));
  });

  for (const attack of attacks) {
    it(attack.name, async () => {
      const client = await registerClient();
      const assertion = await attack.assertion(client);
      expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient(attack.reason));
    });
  }
});

describe("attacks on the request", () => {
  it("rejects plain http when the issuer is https, before any credential is read", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const url = TOKEN_ENDPOINT.replace("https:", "http:");
    expect(await refusalOf(await postToken(tokenForm(assertion), { url }))).toEqual({
      status: 400,
      error: "invalid_request",
      reason: "insecure_transport",
    });
    // Nothing was spent: the same assertion over https gets its token.
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("refuses credentials in the query string, at the token, revocation and introspection endpoints alike", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const refusals = [];
    for (const [path, event, name] of [
      ["/token", "token_request", "client_assertion"],
      ["/token", "token_request", "client_secret"],
      ["/revoke", "revocation_request", "token"],
      ["/introspect", "introspection_request", "token"],
    ] as const) {
      const url = `${ISSUER}${path}?${name}=x`;
      refusals.push(await refusalOf(await postToken(tokenForm(assertion), { url }), event));
    }
    expect(refusals).toEqual(Array(4).fill({ status: 400, error: "invalid_request", reason: "credentials_in_query" }));
    await expectIssued(await postToken(tokenForm(assertion), { url: `${TOKEN_ENDPOINT}?unrelated=1` }));
  });

  it("refuses a request that reached the Worker at another origin (421), before any credential is read", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const refusals = [];
    for (const url of [
      "https://edge-token-service.example.workers.dev/token",
      "https://as.example.test:8443/token",
      "https://localhost/token",
    ]) {
      refusals.push(await refusalOf(await postToken(tokenForm(assertion), { url })));
    }
    expect(refusals).toEqual(Array(3).fill({ status: 421, error: "invalid_request", reason: "origin_not_issuer" }));
    // Nothing was spent: the same assertion at the issuer's origin gets its token.
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("rejects an audience taken from X-Forwarded-Host or Forwarded", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: "https://proxy.attacker.example" } });
    const response = await audited(() =>
      exports.default.fetch(TOKEN_ENDPOINT, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-Forwarded-Host": "proxy.attacker.example",
          Forwarded: "host=proxy.attacker.example",
        },
        body: new URLSearchParams(tokenForm(assertion)).toString(),
      }),
    );
    expect(await refusalOf(response)).toEqual(invalidClient("aud_invalid"));
  });

  type Form = (a: string) => Record<string, string | string[]>;
  const requestCases: Array<[string, Form, Record<string, string>, number, string, string]> = [
    [
      "rejects a duplicated grant_type",
      (a) => ({ ...tokenForm(a), grant_type: ["client_credentials", "client_credentials"] }),
      {},
      400,
      "invalid_request",
      "duplicate_parameter",
    ],
    [
      "rejects a duplicated client_assertion_type",
      (a) => ({ ...tokenForm(a), client_assertion_type: [JWT_BEARER, JWT_BEARER] }),
      {},
      400,
      "invalid_request",
      "duplicate_parameter",
    ],
    [
      "rejects a duplicated client_id",
      (a) => ({ ...tokenForm(a), client_id: ["x", "x"] }),
      {},
      400,
      "invalid_request",
      "duplicate_parameter",
    ],
    [
      "rejects an assertion sent with client_secret",
      (a) => ({ ...tokenForm(a), client_secret: "s" }),
      {},
      400,
      "invalid_request",
      "multiple_auth_methods",
    ],
    [
      "rejects an assertion sent with Basic authentication",
      (a) => tokenForm(a),
      { Authorization: "Basic eDp5" },
      400,
      "invalid_request",
      "multiple_auth_methods",
    ],
    [
      "rejects an assertion sent with a Bearer token",
      (a) => tokenForm(a),
      { Authorization: "Bearer abc" },
      400,
      "invalid_request",
      "multiple_auth_methods",
    ],
    [
      "rejects client_secret alone as an unsupported method",
      () => ({ grant_type: "client_credentials", client_id: "c", client_secret: "s" }),
      {},
      401,
      "invalid_client",
      "client_secret_not_accepted",
    ],
    [
      "rejects Basic authentication alone as an unsupported method",
      () => ({ grant_type: "client_credentials" }),
      { Authorization: "Basic eDp5" },
      401,
      "invalid_client",
      "client_secret_not_accepted",
    ],
    [
      "rejects Basic authentication with a client_secret in the body too",
      () => ({ grant_type: "client_credentials", client_secret: "s" }),
      { Authorization: "Basic eDp5" },
      400,
      "invalid_request",
      "multiple_auth_methods",
    ],
    [
      "rejects too many form fields",
      (a) => ({ ...tokenForm(a), ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, "x"])) }),
      {},
      400,
      "invalid_request",
      "too_many_fields",
    ],
    [
      "rejects more resource parameters than the limit",
      (a) => ({ ...tokenForm(a), resource: Array.from({ length: 9 }, (_, i) => `https://api${i}.example.test`) }),
      {},
      400,
      "invalid_request",
      "too_many_fields",
    ],
  ];
  for (const [name, form, headers, status, error, reason] of requestCases) {
    it(name, async () => {
      const client = await registerClient();
      const response = await postToken(form(await buildAssertion(client)), { headers });
      expect(await refusalOf(response)).toEqual({ status, error, reason });
    });
  }

  it("rejects a 1 MiB body with 413 before parsing", async () => {
    const response = await postToken({}, { body: "x".repeat(1024 * 1024) });
    expect(await refusalOf(response)).toEqual({ status: 413, error: "invalid_request", reason: "body_too_large" });
  });

  it("rejects a declared Content-Length over the limit without reading a small body", async () => {
    const client = await registerClient();
    const body = new URLSearchParams(tokenForm(await buildAssertion(client))).toString();
    const response = await postToken({}, { headers: { "Content-Length": "999999" }, body });
    expect(await refusalOf(response)).toEqual({ status: 413, error: "invalid_request", reason: "body_too_large" });
  });

  it("rejects an otherwise valid token request whose body is not UTF-8", async () => {
    const client = await registerClient();
    const form = new TextEncoder().encode(`${new URLSearchParams(tokenForm(await buildAssertion(client)))}&note=`);
    const body = new Uint8Array([...form, 0xff, 0xfe]);
    expect(await refusalOf(await postToken({}, { body }))).toEqual({
      status: 400,
      error: "invalid_request",
      reason: "body_malformed",
    });
  });
});

describe("replay in every shape", () => {
  it("rejects a sequential replay", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    await expectIssued(await postToken(tokenForm(assertion)));
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("replayed"));
  });

  it("issues one token for 20 concurrent uses, and refuses the others as replays", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const responses = await Promise.all(Array.from({ length: 20 }, () => postToken(tokenForm(assertion))));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    const outcomes = auditLog().map((line) => line.reason ?? line.outcome);
    expect(outcomes.sort()).toEqual(["issued", ...Array(19).fill("replayed")]);
  });

  it("still accepts a jti after a failed attempt with the same jti by someone without the key", async () => {
    const client = await registerClient();
    const attacker = await clientKey("ES256", 32);
    const forged = await buildAssertion(client, {
      claims: { jti: "target" },
      signWith: { ...attacker, kid: client.key.kid },
    });
    expect(await refusalOf(await postToken(tokenForm(forged)))).toEqual(invalidClient("signature_invalid"));
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { claims: { jti: "target" } }))));
  });

  it("treats the same jti at two clients as two assertions", async () => {
    const a = await registerClient();
    const b = await registerClient();
    await expectIssued(await postToken(tokenForm(await buildAssertion(a, { claims: { jti: "same" } }))));
    await expectIssued(await postToken(tokenForm(await buildAssertion(b, { claims: { jti: "same" } }))));
  });

  it("spends a jti once whatever its signature bytes: s replaced by n - s verifies, and the original is then a replay", async () => {
    // ECDSA signatures are malleable: (r, n - s) verifies too. The guard keys on the jti, not on the token's bytes,
    // so the two encodings of one assertion still get one token between them.
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const [h, p, s] = assertion.split(".");
    const sig = fromB64(s!);
    const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    const sValue = BigInt(`0x${[...sig.slice(32)].map((x) => x.toString(16).padStart(2, "0")).join("")}`);
    const flipped = (n - sValue).toString(16).padStart(64, "0");
    const malleated = Uint8Array.from([...sig.slice(0, 32), ...flipped.match(/../g)!.map((x) => parseInt(x, 16))]);
    const reencoded = `${h}.${p}.${b64(malleated)}`;
    expect(reencoded).not.toBe(assertion);
    await expectIssued(await postToken(tokenForm(reencoded)));
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("replayed"));
  });

  it("rejects a signature re-encoded with non-canonical base64url, without spending its jti", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const [h, p, s] = assertion.split(".");
    // ES256 signatures are 64 bytes: 86 chars, whose last char carries 2 unused bits. Set one of them.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(s!.at(-1)!);
    const variant = `${s!.slice(0, -1)}${alphabet[last | 1]}`;
    expect(variant).not.toBe(s);
    expect(await refusalOf(await postToken(tokenForm(`${h}.${p}.${variant}`)))).toEqual(
      invalidClient("assertion_malformed"),
    );
    await expectIssued(await postToken(tokenForm(assertion)));
  });
});

describe("legacy audience flag", () => {
  it("accepts the token endpoint URL as aud for a client registered with legacy_audience", async () => {
    const client = await registerClient({ record: { legacy_audience: true } });
    await expectIssued(await postToken(tokenForm(await buildAssertion(client, { claims: { aud: TOKEN_ENDPOINT } }))));
  });

  it("still accepts the issuer for a legacy client", async () => {
    const client = await registerClient({ record: { legacy_audience: true } });
    await expectIssued(await postToken(tokenForm(await buildAssertion(client))));
  });

  it.each([
    ["the issuer and the token endpoint in an array", [ISSUER, TOKEN_ENDPOINT]],
    ["the token endpoint alone in an array", [TOKEN_ENDPOINT]],
    ["the token endpoint with a trailing slash", `${TOKEN_ENDPOINT}/`],
    ["another server", "https://attacker.example"],
  ])("still rejects %s for a legacy client", async (_name, aud) => {
    const client = await registerClient({ record: { legacy_audience: true } });
    const assertion = await buildAssertion(client, { claims: { aud } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual(invalidClient("aud_invalid"));
  });
});

/** An RSA key pair of `bits` made with WebCrypto directly (jose refuses to make or use one under 2048 bits). */
async function rsaKeyPair(bits: number): Promise<{ privateKey: CryptoKey; publicJwk: Record<string, unknown> }> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const { kty, n, e } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return { privateKey: pair.privateKey, publicJwk: { kty, n, e, kid: `rsa-${bits}` } };
}

describe("weak keys at use", () => {
  async function rsaClientAssertion(bits: number) {
    const { privateKey, publicJwk } = await rsaKeyPair(bits);
    // Written straight to KV (the CLI's bootstrap path): a key the registry refuses can only get there that way.
    const client = await registerClient({ keys: [publicJwk], bootstrap: true });
    const header = JSON.stringify({ alg: "RS256", kid: publicJwk.kid, typ: "JWT" });
    return signRaw(privateKey, header, JSON.stringify(validClaims(client)));
  }

  it("accepts an assertion signed by a registered 2048-bit RSA key made the same way (positive control)", async () => {
    await expectIssued(await postToken(tokenForm(await rsaClientAssertion(2048))));
  });

  it("refuses a client whose stored record holds an RSA key under 2048 bits, signing with it", async () => {
    expect(await refusalOf(await postToken(tokenForm(await rsaClientAssertion(1024))))).toEqual(
      invalidClient("client_record_invalid"),
    );
  });

  it("refuses a client whose stored key is marked use: enc", async () => {
    const key = await clientKey("ES256");
    const client = await registerClient({ keys: [{ ...key.publicJwk, use: "enc" }], bootstrap: true });
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client))))).toEqual(
      invalidClient("client_record_invalid"),
    );
  });

  it("refuses a client whose stored key allows operations other than verify", async () => {
    const key = await clientKey("ES256");
    const client = await registerClient({ keys: [{ ...key.publicJwk, key_ops: ["verify", "sign"] }], bootstrap: true });
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client))))).toEqual(
      invalidClient("client_record_invalid"),
    );
  });

  it("refuses a client whose stored key is private", async () => {
    const key = await clientKey("ES256");
    const privateJwk = await exportJWK(key.privateKey);
    const client = await registerClient({ keys: [{ ...privateJwk, kid: key.kid }], bootstrap: true });
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client))))).toEqual(
      invalidClient("client_record_invalid"),
    );
  });
});
