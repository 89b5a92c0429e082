// Discovery tests: RFC 8414 metadata (and its OpenID Connect alias), the JWKS endpoint, and an issued token
// verified with jose against the served JWKS exactly as a resource server would.
import { exports } from "cloudflare:workers";
import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { get, ISSUER, registerClient, requestToken } from "../support";

describe("metadata", () => {
  for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
    it(`serves RFC 8414 metadata at ${path}`, async () => {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("Cache-Control")).toMatch(/max-age=\d+/);
      const metadata = (await response.json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer: ISSUER,
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
        grant_types_supported: ["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
      });
      const algs = metadata.token_endpoint_auth_signing_alg_values_supported as string[];
      expect(algs).toEqual(expect.arrayContaining(["ES256", "PS256", "RS256", "EdDSA"]));
      expect(algs).not.toContain("none");
      expect(algs.some((a) => a.startsWith("HS"))).toBe(false);
    });
  }

  it("refuses POST on the metadata with 405", async () => {
    const response = await get("/.well-known/oauth-authorization-server", { method: "POST" });
    expect(response.status).toBe(405);
  });
});

describe("JWKS", () => {
  it("publishes public keys only, cacheable", async () => {
    const response = await get("/.well-known/jwks.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toMatch(/public, max-age=\d+/);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toHaveProperty("d");
      expect(key).toMatchObject({ use: "sig" });
      expect(typeof key.kid).toBe("string");
    }
  });

  it("verifies an issued token with jose against the served jwks_uri", async () => {
    const client = await registerClient();
    const { access_token } = (await (await requestToken(client)).json()) as { access_token: string };
    const jwks = createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`), {
      [customFetch]: (url: string, init: RequestInit) => exports.default.fetch(url, init),
    });
    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      issuer: ISSUER,
      audience: "https://api.example.test",
      typ: "at+jwt",
    });
    expect(payload.sub).toBe(client.clientId);
    expect(protectedHeader.kid).toBeDefined();
  });
});
