// Bench-only Worker: the crypto bound of a token request, i.e. exactly one assertion signature verification and one
// access-token signature per request, with keys imported once per isolate. No claim checks, no storage. Never deployed.
// Routes: POST /verify-and-sign/<ES256|PS256|RS256> (the bound), POST /verify/<alg> (the verification alone, for the
// cost of one more signature check), POST /http-only (same body and response, no crypto).

const VERIFY_PARAMS = {
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  PS256: { import: { name: "RSA-PSS", hash: "SHA-256" }, verify: { name: "RSA-PSS", saltLength: 32 } },
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
};
const SIGN_PARAMS = VERIFY_PARAMS;

const encoder = new TextEncoder();
const importedKeys = new Map();

function base64UrlToBytes(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64Url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function jsonToBase64Url(value) {
  return bytesToBase64Url(encoder.encode(JSON.stringify(value)));
}

function importOnce(id, importKey) {
  let key = importedKeys.get(id);
  if (!key) {
    key = importKey();
    importedKeys.set(id, key);
  }
  return key;
}

function clientPublicKey(env, alg) {
  return importOnce(`client:${alg}`, () => {
    const { kty, crv, n, e, x, y } = JSON.parse(env.CLIENT_PUBLIC_KEYS)[alg];
    return crypto.subtle.importKey("jwk", { kty, crv, n, e, x, y }, VERIFY_PARAMS[alg].import, false, ["verify"]);
  });
}

function serviceSigningKey(env) {
  return importOnce("signing", async () => {
    const jwk = JSON.parse(env.SIGNING_KEYS).keys[0];
    const key = await crypto.subtle.importKey("jwk", jwk, SIGN_PARAMS[jwk.alg].import, false, ["sign"]);
    return { key, jwk };
  });
}

function tokenSizedResponse(accessToken) {
  return Response.json(
    { access_token: accessToken, token_type: "Bearer", expires_in: 600 },
    { headers: { "Cache-Control": "no-store", Pragma: "no-cache" } },
  );
}

export default {
  async fetch(request, env) {
    const body = await request.text();
    const path = new URL(request.url).pathname;
    if (path === "/http-only") return tokenSizedResponse("x".repeat(560));

    const verifyOnly = path.startsWith("/verify/");
    const alg = path.slice(verifyOnly ? "/verify/".length : "/verify-and-sign/".length);
    if (!(verifyOnly || path.startsWith("/verify-and-sign/")) || !(alg in VERIFY_PARAMS))
      return new Response("no route", { status: 404 });
    const assertion = new URLSearchParams(body).get("client_assertion") ?? "";
    const [header, payload, signature] = assertion.split(".");
    const valid = await crypto.subtle.verify(
      VERIFY_PARAMS[alg].verify,
      await clientPublicKey(env, alg),
      base64UrlToBytes(signature ?? ""),
      encoder.encode(`${header}.${payload}`),
    );
    if (!valid) return Response.json({ error: "invalid_client" }, { status: 401 });
    if (verifyOnly) return tokenSizedResponse("x".repeat(560));

    const { key, jwk } = await serviceSigningKey(env);
    const now = Math.floor(Date.now() / 1000);
    const signingInput = `${jsonToBase64Url({ alg: jwk.alg, kid: jwk.kid, typ: "at+jwt" })}.${jsonToBase64Url({
      client_id: "bench",
      iss: env.ISSUER,
      sub: "bench",
      aud: env.ISSUER,
      iat: now,
      exp: now + 600,
      jti: crypto.randomUUID(),
    })}`;
    const tokenSignature = await crypto.subtle.sign(SIGN_PARAMS[jwk.alg].verify, key, encoder.encode(signingInput));
    return tokenSizedResponse(`${signingInput}.${bytesToBase64Url(tokenSignature)}`);
  },
};
