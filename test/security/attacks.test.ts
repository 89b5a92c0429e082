// Adversarial suite: one named case per known attack on JWT client authentication, each asserting the exact
// status and error through the real Worker. Table-driven; every case starts from a valid assertion and breaks it.
import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { exportJWK, exportSPKI, SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildAssertion,
  clientKey,
  errorOf,
  ISSUER,
  JWT_BEARER,
  nowSeconds,
  postToken,
  registerClient,
  type TestClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../worker/support";

afterEach(() => reset());

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

/** Re-signs raw header/payload text with the client's key (so the only defect is the one under test). */
async function signRaw(client: TestClient, headerText: string, payloadText: string): Promise<string> {
  const input = `${b64text(headerText)}.${b64text(payloadText)}`;
  const alg = client.key.alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
  const signature = new Uint8Array(
    await crypto.subtle.sign(alg, client.key.privateKey, new TextEncoder().encode(input)),
  );
  return `${input}.${b64(signature)}`;
}

interface Attack {
  name: string;
  /** Builds the hostile assertion for a freshly registered ES256 client. */
  assertion: (client: TestClient) => Promise<string>;
  status?: number;
  error?: string;
}

const INVALID_CLIENT = { status: 401, error: "invalid_client" };

const attacks: Attack[] = [
  // Algorithm confusion
  {
    name: "rejects alg none with an empty signature",
    assertion: async (c) => `${b64json({ alg: "none", typ: "JWT" })}.${b64json(validClaims(c))}.`,
  },
  {
    name: "rejects alg None in another case",
    assertion: async (c) => `${b64json({ alg: "None" })}.${b64json(validClaims(c))}.${b64text("x")}`,
  },
  {
    name: "rejects HS256 keyed with the client's public key (PEM)",
    assertion: async (c) => {
      const pem = await exportSPKI(
        await crypto.subtle.importKey(
          "jwk",
          c.key.publicJwk as JsonWebKey,
          { name: "ECDSA", namedCurve: "P-256" },
          true,
          ["verify"],
        ),
      );
      return new SignJWT(validClaims(c))
        .setProtectedHeader({ alg: "HS256", kid: c.key.kid })
        .sign(new TextEncoder().encode(pem));
    },
  },
  {
    name: "rejects HS256 keyed with the client's public JWK JSON",
    assertion: async (c) =>
      new SignJWT(validClaims(c))
        .setProtectedHeader({ alg: "HS256", kid: c.key.kid })
        .sign(new TextEncoder().encode(JSON.stringify(c.key.publicJwk))),
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
  },
  {
    name: "rejects a jku pointing at an attacker's JWKS",
    assertion: async (c) => buildAssertion(c, { header: { jku: "https://attacker.example/jwks.json" } }),
  },
  {
    name: "rejects an x5u pointing at an attacker's certificate",
    assertion: async (c) => buildAssertion(c, { header: { x5u: "https://attacker.example/cert.pem" } }),
  },
  {
    name: "rejects an x5c chain in the header",
    assertion: async (c) => buildAssertion(c, { header: { x5c: ["MIIBszCCAVmgAwIBAgIU"] } }),
  },
  // ECDSA "psychic signatures" (CVE-2022-21449)
  {
    name: "rejects an ES256 signature of all zeros (r = s = 0)",
    assertion: async (c) => {
      const [h, p] = (await buildAssertion(c)).split(".");
      return `${h}.${p}.${b64(new Uint8Array(64))}`;
    },
  },
  {
    name: "rejects an ES256 signature with r = 0 and s = valid",
    assertion: async (c) => {
      const [h, p, s] = (await buildAssertion(c)).split(".");
      const sig = fromB64(s!);
      sig.fill(0, 0, 32);
      return `${h}.${p}.${b64(sig)}`;
    },
  },
  {
    name: "rejects a DER-encoded ECDSA signature instead of raw r||s",
    assertion: async (c) => {
      const [h, p] = (await buildAssertion(c)).split(".");
      return `${h}.${p}.${b64(Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]))}`;
    },
  },
  // Malformed compact serialisation
  { name: "rejects an empty assertion-like string of dots", assertion: async () => ".." },
  { name: "rejects a single segment", assertion: async () => b64json({ alg: "ES256" }) },
  {
    name: "rejects whitespace inside the compact form",
    assertion: async (c) => (await buildAssertion(c)).replace(".", " ."),
  },
  { name: "rejects a trailing dot", assertion: async (c) => `${await buildAssertion(c)}.` },
  {
    name: "rejects a JWE (nested/encrypted token)",
    assertion: async () => `${b64json({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" })}.AAAA.AAAA.AAAA.AAAA`,
  },
  {
    name: "rejects a nested JWT as payload (cty JWT)",
    assertion: async (c) => {
      const inner = await buildAssertion(c);
      return signRaw(c, JSON.stringify({ alg: "ES256", kid: c.key.kid, cty: "JWT" }), JSON.stringify(inner));
    },
  },
  // Bad base64url
  {
    name: "rejects base64 with padding in the payload",
    assertion: async (c) => {
      const [h, p, s] = (await buildAssertion(c)).split(".");
      return `${h}.${p}==.${s}`;
    },
  },
  {
    name: "rejects the standard base64 alphabet",
    assertion: async (c) => {
      const [h, p, s] = (await buildAssertion(c)).split(".");
      return `${h}.${p!.replace(/-/g, "+").replace(/_/g, "/")}+/.${s}`;
    },
  },
  // JSON that is not an object, or ambiguous
  {
    name: "rejects a header that is a JSON string",
    assertion: async (c) => signRaw(c, '"ES256"', JSON.stringify(validClaims(c))),
  },
  {
    name: "rejects claims that are a JSON array",
    assertion: async (c) => signRaw(c, JSON.stringify({ alg: "ES256", kid: c.key.kid }), "[1,2]"),
  },
  {
    name: "rejects claims that are JSON null",
    assertion: async (c) => signRaw(c, JSON.stringify({ alg: "ES256", kid: c.key.kid }), "null"),
  },
  {
    name: "rejects duplicate aud members (wrong first, right last)",
    assertion: async (c) => {
      const claims = JSON.stringify(validClaims(c)).replace(/^\{/, '{"aud":"https://attacker.example",');
      return signRaw(c, JSON.stringify({ alg: "ES256", kid: c.key.kid }), claims);
    },
  },
  {
    name: "rejects duplicate alg members in the header",
    assertion: async (c) =>
      signRaw(c, `{"alg":"none","alg":"ES256","kid":"${c.key.kid}"}`, JSON.stringify(validClaims(c))),
  },
  // crit and b64
  {
    name: "rejects crit naming an unknown extension",
    assertion: async (c) =>
      signRaw(
        c,
        JSON.stringify({ alg: "ES256", kid: c.key.kid, crit: ["x-ext"], "x-ext": 1 }),
        JSON.stringify(validClaims(c)),
      ),
  },
  {
    name: "rejects b64:false (unencoded payload)",
    assertion: async (c) =>
      signRaw(
        c,
        JSON.stringify({ alg: "ES256", kid: c.key.kid, crit: ["b64"], b64: false }),
        JSON.stringify(validClaims(c)),
      ),
  },
  // Claims of the wrong type or out of range
  {
    name: "rejects exp as a string",
    assertion: async (c) => buildAssertion(c, { claims: { exp: String(nowSeconds() + 60) } }),
  },
  {
    name: "rejects exp far in the future (1e20)",
    assertion: async (c) => buildAssertion(c, { claims: { exp: 1e20 }, omit: ["iat"] }),
  },
  { name: "rejects a negative exp", assertion: async (c) => buildAssertion(c, { claims: { exp: -1 } }) },
  { name: "rejects iat as a boolean", assertion: async (c) => buildAssertion(c, { claims: { iat: true } }) },
  { name: "rejects jti as an object", assertion: async (c) => buildAssertion(c, { claims: { jti: { id: 1 } } }) },
  {
    name: "rejects an oversized jti",
    assertion: async (c) => buildAssertion(c, { claims: { jti: "j".repeat(1000) } }),
  },
  {
    name: "rejects iss as an array",
    assertion: async (c) => buildAssertion(c, { claims: { iss: [c.clientId], sub: [c.clientId] } }),
  },
  // Near-miss audiences (rfc7523bis: the issuer, exactly, as a string)
  {
    name: "rejects aud with a trailing slash",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER}/` } }),
  },
  {
    name: "rejects aud in upper case",
    assertion: async (c) => buildAssertion(c, { claims: { aud: ISSUER.toUpperCase() } }),
  },
  {
    name: "rejects aud with a trailing space",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER} ` } }),
  },
  {
    name: "rejects aud with a default port",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER}:443` } }),
  },
  {
    name: "rejects aud as the token endpoint (no legacy flag)",
    assertion: async (c) => buildAssertion(c, { claims: { aud: TOKEN_ENDPOINT } }),
  },
  {
    name: "rejects aud as a single-element array",
    assertion: async (c) => buildAssertion(c, { claims: { aud: [ISSUER] } }),
  },
  {
    name: "rejects aud listing the issuer beside an attacker's server (audience injection)",
    assertion: async (c) => buildAssertion(c, { claims: { aud: ["https://attacker.example", ISSUER] } }),
  },
  {
    name: "rejects aud as the metadata URL",
    assertion: async (c) => buildAssertion(c, { claims: { aud: `${ISSUER}/.well-known/oauth-authorization-server` } }),
  },
  // Explicit types of other JWT kinds
  ...["at+jwt", "dpop+jwt", "secevent+jwt", "logout+jwt", "oauth-authz-req+jwt", "JOSE", "jwt+json"].map((typ) => ({
    name: `rejects typ ${typ}`,
    assertion: (c: TestClient) => buildAssertion(c, { header: { typ } }),
  })),
  // Key / alg mismatch
  {
    name: "rejects an RS256 header over an EC key",
    assertion: async (c) => {
      const rsa = await clientKey("RS256");
      return buildAssertion(c, { signWith: { ...rsa, kid: c.key.kid } });
    },
  },
  {
    name: "rejects an ES512 header with a P-256 registered key",
    assertion: async (c) => {
      const p521 = await clientKey("ES512");
      return buildAssertion(c, { signWith: { ...p521, kid: c.key.kid } });
    },
  },
  // Unknown and hostile kids
  { name: "rejects an unknown kid", assertion: async (c) => buildAssertion(c, { header: { kid: "not-registered" } }) },
  {
    name: "rejects a path-traversal kid",
    assertion: async (c) => buildAssertion(c, { header: { kid: "../../client:other" } }),
  },
  {
    name: "rejects a kid with a NUL byte",
    assertion: async (c) => buildAssertion(c, { header: { kid: `${c.key.kid}\u0000` } }),
  },
  { name: "rejects an oversized kid", assertion: async (c) => buildAssertion(c, { header: { kid: "k".repeat(300) } }) },
  {
    name: "rejects a kid that is an object",
    assertion: async (c) => buildAssertion(c, { header: { kid: { $ne: "" } } }),
  },
  {
    name: "rejects an SQL-looking kid",
    assertion: async (c) => buildAssertion(c, { header: { kid: "' OR '1'='1" } }),
  },
];

describe("attacks on the client assertion", () => {
  for (const attack of attacks) {
    it(attack.name, async () => {
      const client = await registerClient();
      const assertion = await attack.assertion(client);
      const error = await errorOf(await postToken(tokenForm(assertion)));
      expect(error).toMatchObject({
        status: attack.status ?? INVALID_CLIENT.status,
        error: attack.error ?? INVALID_CLIENT.error,
      });
    });
  }
});

describe("attacks on the request", () => {
  it("rejects an audience taken from Host or X-Forwarded-Host", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: "https://proxy.attacker.example" } });
    const response = await exports.default.fetch("https://proxy.attacker.example/token", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Host: "proxy.attacker.example",
        "X-Forwarded-Host": "proxy.attacker.example",
        Forwarded: "host=proxy.attacker.example",
      },
      body: new URLSearchParams(tokenForm(assertion)).toString(),
    });
    expect(await errorOf(response)).toMatchObject(INVALID_CLIENT);
  });

  const requestCases: Array<
    [string, (a: string) => Record<string, string | string[]>, Record<string, string>, number, string]
  > = [
    [
      "rejects a duplicated grant_type",
      (a) => ({ ...tokenForm(a), grant_type: ["client_credentials", "client_credentials"] }),
      {},
      400,
      "invalid_request",
    ],
    [
      "rejects a duplicated client_assertion_type",
      (a) => ({ ...tokenForm(a), client_assertion_type: [JWT_BEARER, JWT_BEARER] }),
      {},
      400,
      "invalid_request",
    ],
    ["rejects a duplicated client_id", (a) => ({ ...tokenForm(a), client_id: ["x", "x"] }), {}, 400, "invalid_request"],
    [
      "rejects an assertion sent with client_secret",
      (a) => ({ ...tokenForm(a), client_secret: "s" }),
      {},
      400,
      "invalid_request",
    ],
    [
      "rejects an assertion sent with Basic authentication",
      (a) => tokenForm(a),
      { Authorization: "Basic eDp5" },
      400,
      "invalid_request",
    ],
    [
      "rejects an assertion sent with a Bearer token",
      (a) => tokenForm(a),
      { Authorization: "Bearer abc" },
      400,
      "invalid_request",
    ],
    [
      "rejects client_secret alone as an unsupported method",
      () => ({ grant_type: "client_credentials", client_id: "c", client_secret: "s" }),
      {},
      401,
      "invalid_client",
    ],
    [
      "rejects Basic authentication alone as an unsupported method",
      () => ({ grant_type: "client_credentials" }),
      { Authorization: "Basic eDp5" },
      401,
      "invalid_client",
    ],
    [
      "rejects Basic authentication with a client_secret in the body too",
      () => ({ grant_type: "client_credentials", client_secret: "s" }),
      { Authorization: "Basic eDp5" },
      400,
      "invalid_request",
    ],
    [
      "rejects too many form fields",
      (a) => ({ ...tokenForm(a), ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, "x"])) }),
      {},
      400,
      "invalid_request",
    ],
  ];
  for (const [name, form, headers, status, error] of requestCases) {
    it(name, async () => {
      const client = await registerClient();
      const response = await postToken(form(await buildAssertion(client)), { headers });
      expect(await errorOf(response)).toMatchObject({ status, error });
    });
  }

  it("rejects a 1 MiB body with 413 before parsing", async () => {
    const response = await postToken({}, { body: "x".repeat(1024 * 1024) });
    expect(await errorOf(response)).toMatchObject({ status: 413, error: "invalid_request" });
  });

  it("rejects a declared Content-Length over the limit", async () => {
    const response = await postToken(
      {},
      { headers: { "Content-Length": "999999" }, body: "grant_type=client_credentials" },
    );
    expect(response.status).toBe(413);
  });

  it("rejects a body that is not UTF-8", async () => {
    const response = await postToken({}, { body: new Uint8Array([0x67, 0x3d, 0xff, 0xfe]) });
    expect(await errorOf(response)).toMatchObject({ status: 400, error: "invalid_request" });
  });
});

describe("replay in every shape", () => {
  it("rejects a sequential replay", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
    expect(await errorOf(await postToken(tokenForm(assertion)))).toMatchObject(INVALID_CLIENT);
  });

  it("issues one token for 20 concurrent uses", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => postToken(tokenForm(assertion))))).map(
      (r) => r.status,
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  });

  it("still accepts a jti after a failed attempt with the same jti by someone without the key", async () => {
    const client = await registerClient();
    const attacker = await clientKey("ES256", 32);
    const forged = await buildAssertion(client, {
      claims: { jti: "target" },
      signWith: { ...attacker, kid: client.key.kid },
    });
    expect((await postToken(tokenForm(forged))).status).toBe(401);
    expect((await postToken(tokenForm(await buildAssertion(client, { claims: { jti: "target" } })))).status).toBe(200);
  });

  it("treats the same jti at two clients as two assertions", async () => {
    const a = await registerClient();
    const b = await registerClient();
    expect((await postToken(tokenForm(await buildAssertion(a, { claims: { jti: "same" } })))).status).toBe(200);
    expect((await postToken(tokenForm(await buildAssertion(b, { claims: { jti: "same" } })))).status).toBe(200);
  });

  it("rejects a replay with a malleated ECDSA signature (s replaced by n - s)", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
    const [h, p, s] = assertion.split(".");
    const sig = fromB64(s!);
    const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    const sValue = BigInt(`0x${[...sig.slice(32)].map((x) => x.toString(16).padStart(2, "0")).join("")}`);
    const flipped = (n - sValue).toString(16).padStart(64, "0");
    const malleated = Uint8Array.from([...sig.slice(0, 32), ...flipped.match(/../g)!.map((x) => parseInt(x, 16))]);
    const reencoded = `${h}.${p}.${b64(malleated)}`;
    expect(reencoded).not.toBe(assertion);
    expect(await errorOf(await postToken(tokenForm(reencoded)))).toMatchObject(INVALID_CLIENT);
  });

  it("rejects a replay whose signature is re-encoded with non-canonical base64url", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
    const [h, p, s] = assertion.split(".");
    // ES256 signatures are 64 bytes: 86 chars, whose last char carries 2 unused bits. Set one of them.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(s!.at(-1)!);
    const variant = `${s!.slice(0, -1)}${alphabet[last | 1]}`;
    expect(variant).not.toBe(s);
    expect(await errorOf(await postToken(tokenForm(`${h}.${p}.${variant}`)))).toMatchObject(INVALID_CLIENT);
  });
});

describe("legacy audience flag", () => {
  it("accepts the token endpoint URL as aud for a client registered with legacy_audience", async () => {
    const client = await registerClient({ record: { legacy_audience: true } });
    const response = await postToken(tokenForm(await buildAssertion(client, { claims: { aud: TOKEN_ENDPOINT } })));
    expect(response.status).toBe(200);
  });

  it("still accepts the issuer for a legacy client", async () => {
    const client = await registerClient({ record: { legacy_audience: true } });
    expect((await postToken(tokenForm(await buildAssertion(client)))).status).toBe(200);
  });

  it("still rejects arrays and other values for a legacy client", async () => {
    const client = await registerClient({ record: { legacy_audience: true } });
    for (const aud of [[ISSUER, TOKEN_ENDPOINT], `${TOKEN_ENDPOINT}/`, "https://attacker.example"]) {
      expect((await postToken(tokenForm(await buildAssertion(client, { claims: { aud } })))).status).toBe(401);
    }
  });
});

describe("weak keys at use", () => {
  it("refuses a client whose stored record holds an RSA key under 2048 bits", async () => {
    const small = { kty: "RSA", e: "AQAB", n: b64(new Uint8Array(128).fill(0xc3)), kid: "weak" };
    const client = await registerClient({ keys: [small] });
    expect(await errorOf(await postToken(tokenForm(await buildAssertion(client))))).toMatchObject(INVALID_CLIENT);
  });

  it("refuses a client whose stored key is marked use: enc", async () => {
    const key = await clientKey("ES256");
    const client = await registerClient({ keys: [{ ...key.publicJwk, use: "enc" }] });
    expect(await errorOf(await postToken(tokenForm(await buildAssertion(client))))).toMatchObject(INVALID_CLIENT);
  });

  it("refuses a client whose stored key is private", async () => {
    const key = await clientKey("ES256");
    const privateJwk = await exportJWK(key.privateKey);
    const client = await registerClient({ keys: [{ ...privateJwk, kid: key.kid }] });
    expect(await errorOf(await postToken(tokenForm(await buildAssertion(client))))).toMatchObject(INVALID_CLIENT);
  });
});
