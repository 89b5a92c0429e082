// Unit tests for validateAssertionClaims: every claim rule, with a frozen clock.
import { describe, expect, it } from "vitest";
import { type AssertionPolicy, validateAssertionClaims } from "../../../src/assertion/claims";
import type { Reason } from "../../../src/protocol/errors";
import { reasonOf } from "../verdict";

const ISSUER = "https://as.example.test";
const NOW = 1_800_000_000;
/** The default profile's policy: the issuer as a string, or as the sole member of an array (RFC 10070). */
const policy: AssertionPolicy = { acceptedAudiences: [ISSUER], arrayAudience: ISSUER, clockSkew: 30, maxLifetime: 300 };

function claims(overrides: Record<string, unknown> = {}, omit: string[] = []) {
  const base: Record<string, unknown> = {
    iss: "client-a",
    sub: "client-a",
    aud: ISSUER,
    jti: "jti-1",
    iat: NOW,
    exp: NOW + 60,
    ...overrides,
  };
  for (const name of omit) delete base[name];
  return base;
}

describe("validateAssertionClaims", () => {
  it("accepts a well-formed assertion and returns client, jti and exp", () => {
    expect(validateAssertionClaims(claims(), policy, NOW)).toEqual({
      clientId: "client-a",
      jti: "jti-1",
      exp: NOW + 60,
      aud: ISSUER,
    });
  });

  const cases: Array<[string, Record<string, unknown>, string[], Reason | "accepted", string?]> = [
    ["rejects when iss is missing", {}, ["iss"], "claims_invalid"],
    ["rejects when sub is missing", {}, ["sub"], "claims_invalid"],
    ["rejects when iss is not a string", { iss: 42, sub: 42 }, [], "claims_invalid"],
    ["rejects when iss and sub differ", { sub: "client-b" }, [], "iss_sub_mismatch"],
    ["rejects when aud is missing", {}, ["aud"], "aud_invalid"],
    ["rejects when aud is the token endpoint URL", { aud: `${ISSUER}/token` }, [], "aud_invalid"],
    ["rejects when aud has a trailing slash", { aud: `${ISSUER}/` }, [], "aud_invalid"],
    ["rejects when aud differs in case", { aud: ISSUER.toUpperCase() }, [], "aud_invalid"],
    ["rejects when aud has surrounding whitespace", { aud: ` ${ISSUER}` }, [], "aud_invalid"],
    ["accepts aud as the issuer alone in a one-member array (RFC 10070)", { aud: [ISSUER] }, [], "accepted"],
    [
      "rejects when aud is an array holding the issuer among others",
      { aud: [ISSUER, "https://evil.example"] },
      [],
      "aud_invalid",
    ],
    [
      "rejects when aud is an array holding another server before the issuer",
      { aud: ["https://evil.example", ISSUER] },
      [],
      "aud_invalid",
    ],
    ["rejects when aud is the issuer twice in an array", { aud: [ISSUER, ISSUER] }, [], "aud_invalid"],
    ["rejects when aud is an empty array", { aud: [] }, [], "aud_invalid"],
    ["rejects when aud is a one-member array with a trailing slash", { aud: [`${ISSUER}/`] }, [], "aud_invalid"],
    ["rejects when aud is a number", { aud: 7 }, [], "aud_invalid"],
    ["rejects when aud is another server", { aud: "https://evil.example" }, [], "aud_invalid"],
    ["rejects when exp is missing", {}, ["exp"], "exp_missing"],
    ["rejects when exp is a string", { exp: String(NOW + 60) }, [], "claims_invalid"],
    ["rejects when exp is not finite", { exp: Number.POSITIVE_INFINITY }, [], "claims_invalid"],
    ["rejects when exp has passed beyond the skew", { exp: NOW - 30, iat: NOW - 60 }, [], "expired"],
    ["accepts when exp passed within the skew", { exp: NOW - 29, iat: NOW - 60 }, [], "accepted"],
    ["rejects when nbf is in the future beyond the skew", { nbf: NOW + 31 }, [], "not_yet_valid"],
    ["accepts when nbf is in the future within the skew", { nbf: NOW + 30 }, [], "accepted"],
    ["rejects when nbf is not a number", { nbf: "soon" }, [], "claims_invalid"],
    ["rejects when iat is in the future beyond the skew", { iat: NOW + 31, exp: NOW + 100 }, [], "iat_in_future"],
    ["rejects when iat is not a number", { iat: null }, [], "claims_invalid"],
    ["rejects when exp - iat exceeds the lifetime cap", { iat: NOW - 10, exp: NOW + 291 }, [], "lifetime_too_long"],
    ["accepts when exp - iat equals the lifetime cap", { iat: NOW - 10, exp: NOW + 290 }, [], "accepted"],
    ["rejects when exp is too far ahead and iat is absent", { exp: NOW + 331 }, ["iat"], "lifetime_too_long"],
    ["accepts a long-enough exp without iat within cap + skew", { exp: NOW + 330 }, ["iat"], "accepted"],
    ["rejects when jti is missing", {}, ["jti"], "jti_missing"],
    ["rejects when jti is empty", { jti: "" }, [], "claims_invalid"],
    ["rejects when jti is not a string", { jti: 7 }, [], "claims_invalid"],
    ["rejects when jti is longer than the limit", { jti: "x".repeat(257) }, [], "claims_invalid"],
    ["rejects when iss holds control characters", { iss: "a\nb", sub: "a\nb" }, [], "claims_invalid"],
  ];
  for (const [name, overrides, omit, expected] of cases) {
    it(name, () => {
      expect(reasonOf(() => validateAssertionClaims(claims(overrides, omit), policy, NOW))).toBe(expected);
    });
  }

  it("rejects when the client_id parameter names another client", () => {
    expect(reasonOf(() => validateAssertionClaims(claims(), policy, NOW, "client-b"))).toBe("client_id_mismatch");
  });

  it("accepts when the client_id parameter names the same client", () => {
    expect(reasonOf(() => validateAssertionClaims(claims(), policy, NOW, "client-a"))).toBe("accepted");
  });

  it("accepts an extra audience only when the policy lists it, and only as a string", () => {
    const legacy = { ...policy, acceptedAudiences: [ISSUER, `${ISSUER}/token`] };
    expect(reasonOf(() => validateAssertionClaims(claims({ aud: `${ISSUER}/token` }), legacy, NOW))).toBe("accepted");
    expect(reasonOf(() => validateAssertionClaims(claims({ aud: [`${ISSUER}/token`] }), legacy, NOW))).toBe(
      "aud_invalid",
    );
  });

  it("rejects a one-member array where the policy takes only a string (PROFILE=fapi2)", () => {
    const { arrayAudience: _, ...stringOnly } = policy;
    expect(reasonOf(() => validateAssertionClaims(claims({ aud: [ISSUER] }), stringOnly, NOW))).toBe("aud_invalid");
    expect(reasonOf(() => validateAssertionClaims(claims(), stringOnly, NOW))).toBe("accepted");
  });
});
