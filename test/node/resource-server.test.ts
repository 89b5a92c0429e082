// The resource-server entry (package export `edge-token-service/resource-server`) imported and used in Node 20, as a
// Node resource server would: tokens signed with a locally generated key set, given inline or served at the issuer's
// /.well-known/jwks.json on 127.0.0.1 (the default key source); a DPoP-bound token with its proof; responseFor; online
// mode (introspection) against a stubbed fetch. Starts one local HTTP server; touches no other state.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createVerifier, responseFor, TokenServiceError } from "edge-token-service/resource-server";
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessTokenHash } from "../../src/dpop/signature";

const ROOT = join(import.meta.dirname, "../..");
const AUDIENCE = "https://api.example.test";
const RESOURCE = `${AUDIENCE}/hello`;

let signer: { privateKey: CryptoKey; publicJwk: JWK };
let server: Server;
let issuer: string;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  signer = { privateKey, publicJwk: { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: "ES256", use: "sig" } };
  server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") return res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [signer.publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A DPoP proof key and a proof by it for GET `htu` with `ath` (RFC 9449 section 4.2). */
async function proofKey() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const proof = (htu: string, ath: string) =>
    new SignJWT({ jti: crypto.randomUUID(), htm: "GET", htu, iat: Math.floor(Date.now() / 1000), ath })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
      .sign(privateKey);
  return { jkt: await calculateJwkThumbprint(jwk), proof };
}

async function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: "client-1", scope: "read", jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: "ES256", kid: signer.publicJwk.kid!, typ: "at+jwt" })
    .setIssuer(issuer)
    .setSubject("client-1")
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(signer.privateKey);
}

describe("the resource-server entry in Node", () => {
  it("is the package export ./resource-server", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string> };
    expect(pkg.exports["./resource-server"]).toBe("./src/resource-server/index.ts");
  });

  it("verifies a Bearer token against an inline JWK Set", async () => {
    const verifier = createVerifier({ issuer, audience: AUDIENCE, jwks: { keys: [signer.publicJwk] } });
    const token = await accessToken();
    const result = await verifier.verify(new Request(RESOURCE, { headers: { Authorization: `Bearer ${token}` } }));
    expect(result).toMatchObject({ clientId: "client-1", scope: ["read"] });
  });

  it("fetches the issuer's /.well-known/jwks.json by default", async () => {
    const verifier = createVerifier({ issuer, audience: AUDIENCE });
    const token = await accessToken();
    const result = await verifier.verify(new Request(RESOURCE, { headers: { Authorization: `Bearer ${token}` } }));
    expect(result.clientId).toBe("client-1");
  });

  it("verifies a DPoP-bound token with its proof, and refuses the proof replayed", async () => {
    const key = await proofKey();
    const verifier = createVerifier({ issuer, audience: AUDIENCE, jwks: { keys: [signer.publicJwk] } });
    const token = await accessToken({ cnf: { jkt: key.jkt } });
    const proof = await key.proof(RESOURCE, await accessTokenHash(token));
    const request = () => new Request(RESOURCE, { headers: { Authorization: `DPoP ${token}`, DPoP: proof } });
    expect((await verifier.verify(request())).jkt).toBe(key.jkt);
    const refusal = await verifier.verify(request()).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(TokenServiceError);
    expect((refusal as TokenServiceError).reason).toBe("dpop_replayed");
  });

  it("answers a refusal with responseFor: status, JSON error and challenge", async () => {
    const verifier = createVerifier({ issuer, audience: "https://other.example.test", jwks: { keys: [] } });
    const token = await accessToken();
    const refusal = await verifier
      .verify(new Request(RESOURCE, { headers: { Authorization: `Bearer ${token}` } }))
      .catch((err: unknown) => err);
    expect((refusal as TokenServiceError).reason).toBe("rs_token_audience_invalid");
    const response = responseFor(refusal);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "invalid_token", error_description: "The access token is invalid" });
    expect(response.headers.get("WWW-Authenticate")).toBe(
      'Bearer error="invalid_token", error_description="The access token is invalid"',
    );
  });

  it("runs online mode (introspection) with a stubbed fetch: active accepted, inactive refused", async () => {
    const client = await generateKeyPair("ES256", { extractable: true });
    const privateKey = { ...(await exportJWK(client.privateKey)), alg: "ES256", kid: "rs-1" };
    let answer: "active" | "inactive" = "active";
    const calls: URLSearchParams[] = [];
    const stub = async (url: string | URL | Request, init?: RequestInit) => {
      expect(String(url)).toBe(`${issuer}/introspect`);
      const form = new URLSearchParams(String(init?.body));
      calls.push(form);
      await jwtVerify(form.get("client_assertion")!, client.publicKey, { issuer: "rs-1", audience: issuer });
      const body = answer === "active" ? { active: true, ...decodeJwt(form.get("token")!) } : { active: false };
      return Response.json(body, { headers: { "Cache-Control": "no-store" } });
    };
    const verifier = createVerifier({
      issuer,
      audience: AUDIENCE,
      jwks: { keys: [signer.publicJwk] },
      introspection: { clientId: "rs-1", privateKey, cacheSeconds: 0, fetch: stub as typeof fetch },
    });
    const request = async () => new Request(RESOURCE, { headers: { Authorization: `Bearer ${await accessToken()}` } });
    expect(await verifier.verify(await request())).toMatchObject({ clientId: "client-1", introspected: true });
    answer = "inactive";
    const refusal = await verifier.verify(await request()).catch((err: unknown) => err);
    expect((refusal as TokenServiceError).reason).toBe("rs_token_inactive");
    expect(responseFor(refusal).status).toBe(401);
    expect(calls).toHaveLength(2);
  });
});
