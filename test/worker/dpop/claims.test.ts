// Unit tests for checkDpopClaims and htuMatches: the claim rules of RFC 9449 section 4.3 (jti, htm, htu, iat window,
// ath), with a frozen clock, each refusal by its reason code.
import { describe, expect, it } from "vitest";
import { checkDpopClaims, type ProofExpectations } from "../../../src/dpop/claims";
import { htuMatches } from "../../../src/dpop/htu";
import { reasonOf } from "../verdict";

const NOW = 1_800_000_000;
const URI = "https://as.example.test/token";
const expected: ProofExpectations = { method: "POST", uri: URI, now: NOW, maxAgeSeconds: 60, skewSeconds: 30 };
const claims = (overrides: Record<string, unknown> = {}) => ({
  jti: "p1",
  htm: "POST",
  htu: URI,
  iat: NOW,
  ...overrides,
});
const check = (c: Record<string, unknown>, e: ProofExpectations = expected) => reasonOf(() => checkDpopClaims(c, e));

describe("checkDpopClaims", () => {
  it("accepts a proof for this request and returns its jti, iat and nonce", () => {
    expect(checkDpopClaims(claims({ nonce: "n" }), expected)).toEqual({ jti: "p1", iat: NOW, nonce: "n" });
  });

  it.each([["jti"], ["htm"], ["htu"], ["iat"]])("refuses a proof without %s", (name) => {
    const c: Record<string, unknown> = claims();
    delete c[name];
    expect(check(c)).toBe("dpop_claims_invalid");
  });

  it.each([
    ["an empty jti", { jti: "" }],
    ["a jti over 256 characters", { jti: "x".repeat(257) }],
    ["a numeric htm", { htm: 1 }],
    ["iat as a string", { iat: String(NOW) }],
    ["a numeric nonce", { nonce: 7 }],
  ])("refuses %s", (_name, overrides) => {
    expect(check(claims(overrides))).toBe("dpop_claims_invalid");
  });

  it.each([["GET"], ["post"], ["PUT"]])("refuses htm %s for a POST", (htm) => {
    expect(check(claims({ htm }))).toBe("dpop_htm_mismatch");
  });

  it.each([
    ["another host", "https://other.example.test/token"],
    ["another path", "https://as.example.test/tokens"],
    ["http instead of https", "http://as.example.test/token"],
    ["another port", "https://as.example.test:8443/token"],
    ["a user in the URI", "https://user@as.example.test/token"],
    ["not a URI", "token"],
  ])("refuses htu with %s", (_name, htu) => {
    expect(check(claims({ htu }))).toBe("dpop_htu_mismatch");
  });

  it("refuses an iat beyond the skew in the future, accepts one within it", () => {
    expect(check(claims({ iat: NOW + 31 }))).toBe("dpop_iat_invalid");
    expect(check(claims({ iat: NOW + 30 }))).toBe("accepted");
  });

  it("refuses an iat older than the max age plus the skew, accepts one within it", () => {
    expect(check(claims({ iat: NOW - 91 }))).toBe("dpop_iat_invalid");
    expect(check(claims({ iat: NOW - 90 }))).toBe("accepted");
  });

  it("checks ath against the access token hash when one is expected", () => {
    const withToken = { ...expected, accessTokenHash: "abc" };
    expect(check(claims({ ath: "abc" }), withToken)).toBe("accepted");
    expect(check(claims({ ath: "abd" }), withToken)).toBe("dpop_ath_mismatch");
    expect(check(claims(), withToken)).toBe("dpop_ath_mismatch");
  });
});

describe("htuMatches (RFC 9449 section 4.3, check 9; RFC 3986 section 6.2)", () => {
  it.each([
    ["the same URI", URI],
    ["a query", `${URI}?a=b`],
    ["a fragment", `${URI}#x`],
    ["the host in upper case", "https://AS.example.test/token"],
    ["the scheme in upper case", "HTTPS://as.example.test/token"],
    ["the default port", "https://as.example.test:443/token"],
    ["a percent-encoded unreserved character", "https://as.example.test/%74oken"],
    ["a dot segment", "https://as.example.test/x/../token"],
  ])("matches with %s", (_name, htu) => {
    expect(htuMatches(htu, URI)).toBe(true);
  });

  it.each([
    ["a trailing slash", `${URI}/`],
    ["a path in another case", "https://as.example.test/Token"],
    ["an encoded slash", "https://as.example.test%2Ftoken"],
  ])("does not match with %s", (_name, htu) => {
    expect(htuMatches(htu, URI)).toBe(false);
  });
});
