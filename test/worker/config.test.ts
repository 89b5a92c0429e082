// Unit tests for configuration parsing: every [vars] rule, each refusal naming its variable.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { ASSERTION_ALGORITHMS } from "../../src/protocol/constants";
import { CLIENT_CACHE_TTL_SECONDS } from "./support";
import { reasonAndDetailOf as detailOf } from "./verdict";

describe("parseConfig", () => {
  it("builds endpoints from the issuer and applies defaults", () => {
    expect(parseConfig({ ISSUER: "https://auth.example.com" })).toEqual({
      issuer: "https://auth.example.com",
      tokenEndpoint: "https://auth.example.com/token",
      revocationEndpoint: "https://auth.example.com/revoke",
      introspectionEndpoint: "https://auth.example.com/introspect",
      jwksUri: "https://auth.example.com/.well-known/jwks.json",
      adminAudience: "https://auth.example.com/admin",
      accessTokenTtl: 600,
      clockSkew: 30,
      assertionMaxLifetime: 300,
      defaultAudience: "https://auth.example.com",
      clientCacheTtl: 5,
      allowInsecureJwksUri: false,
      profile: "default",
      algorithms: ASSERTION_ALGORITHMS,
      dpop: { proofMaxAge: 60, nonceRequired: false, nonceSecret: undefined, requiredForAll: false },
    });
  });
  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ["rejects a missing ISSUER", { ISSUER: undefined }, /ISSUER is not set/],
    ["rejects an ISSUER with a trailing slash", { ISSUER: "https://auth.example.com/" }, /ISSUER must be an origin/],
    ["rejects an ISSUER with a path", { ISSUER: "https://auth.example.com/tenant" }, /ISSUER must be an origin/],
    ["rejects a plain-http ISSUER off loopback", { ISSUER: "http://auth.example.com" }, /must use https/],
    ["accepts http for localhost", { ISSUER: "http://localhost:8787" }, /^accepted$/],
    ["rejects a non-numeric ACCESS_TOKEN_TTL", { ACCESS_TOKEN_TTL: "10m" }, /ACCESS_TOKEN_TTL must be a whole number/],
    [
      "rejects an ACCESS_TOKEN_TTL over an hour (offline resource servers cannot see a revocation)",
      { ACCESS_TOKEN_TTL: "3601" },
      /ACCESS_TOKEN_TTL must be between 60 and 3600 seconds/,
    ],
    ["accepts an ACCESS_TOKEN_TTL of an hour", { ACCESS_TOKEN_TTL: "3600" }, /^accepted$/],
    ["rejects an out-of-range CLOCK_SKEW", { CLOCK_SKEW: "3600" }, /CLOCK_SKEW must be between 0 and 300/],
    [
      "rejects an out-of-range ASSERTION_MAX_LIFETIME",
      { ASSERTION_MAX_LIFETIME: "5" },
      /ASSERTION_MAX_LIFETIME must be between/,
    ],
    ["rejects a relative DEFAULT_AUDIENCE", { DEFAULT_AUDIENCE: "api" }, /DEFAULT_AUDIENCE/],
    [
      "rejects a CLIENT_CACHE_TTL above a minute",
      { CLIENT_CACHE_TTL: "600" },
      /CLIENT_CACHE_TTL must be between 0 and 60/,
    ],
    ["rejects a non-numeric CLIENT_CACHE_TTL", { CLIENT_CACHE_TTL: "5s" }, /CLIENT_CACHE_TTL must be a whole number/],
    ["accepts CLIENT_CACHE_TTL 0 (cache off)", { CLIENT_CACHE_TTL: "0" }, /^accepted$/],
    ["rejects an unknown DPOP_NONCE", { DPOP_NONCE: "on" }, /DPOP_NONCE must be one of "off", "required"/],
    [
      "rejects DPOP_NONCE=required without its secret, naming it",
      { DPOP_NONCE: "required" },
      /DPOP_NONCE_SECRET is not set \(DPOP_NONCE is "required"\)/,
    ],
    [
      "rejects a DPOP_NONCE_SECRET shorter than 32 characters",
      { DPOP_NONCE: "required", DPOP_NONCE_SECRET: "short" },
      /DPOP_NONCE_SECRET must be at least 32 characters/,
    ],
    [
      "accepts DPOP_NONCE=required with a secret",
      { DPOP_NONCE: "required", DPOP_NONCE_SECRET: "x".repeat(32) },
      /^accepted$/,
    ],
    [
      "rejects a DPOP_PROOF_MAX_AGE over five minutes",
      { DPOP_PROOF_MAX_AGE: "301" },
      /DPOP_PROOF_MAX_AGE must be between 5 and 300/,
    ],
  ];
  for (const [name, vars, expected] of cases) {
    it(name, () => {
      const env = { ISSUER: "https://auth.example.com", ...vars } as Parameters<typeof parseConfig>[0];
      expect(detailOf(() => parseConfig(env))).toMatch(expected);
    });
  }
});

describe("the configuration these tests run with", () => {
  it("is the shipped one, with the per-isolate client cache on", () => {
    // The kill-switch tests warm the cache first: a change through the authority must beat it.
    expect(CLIENT_CACHE_TTL_SECONDS).toBe(parseConfig({ ISSUER: "https://auth.example.com" }).clientCacheTtl);
    expect(CLIENT_CACHE_TTL_SECONDS).toBeGreaterThan(0);
  });
});
