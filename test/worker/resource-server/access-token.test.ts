// Unit tests for the resource server's pure checks: the Authorization header (authorization.ts) and the access token's
// header and claims (access-token.ts), table-driven with a frozen clock, each refusal by its reason code. No I/O.
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import { checkAccessTokenClaims, decodeAccessToken } from "../../../src/resource-server/access-token";
import { presentedToken } from "../../../src/resource-server/authorization";
import { reasonOf } from "../verdict";

const NOW = 1_800_000_000;
const expected = { issuer: "https://as.example.test", audience: "https://api.example.test", now: NOW, skewSeconds: 30 };
const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: expected.issuer,
  aud: expected.audience,
  sub: "c1",
  client_id: "c1",
  iat: NOW,
  exp: NOW + 600,
  jti: "j1",
  ...overrides,
});
const checkClaims = (overrides: Record<string, unknown>) =>
  reasonOf(() => checkAccessTokenClaims(claims(overrides), expected));

describe("checkAccessTokenClaims", () => {
  it("accepts the claims of a token for this audience, with its scopes and binding", () => {
    expect(checkAccessTokenClaims(claims({ scope: "read  write", cnf: { jkt: "t" } }), expected)).toEqual({
      clientId: "c1",
      scope: ["read", "write"],
      jkt: "t",
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["iss with a trailing slash", { iss: `${expected.issuer}/` }, "rs_token_issuer_invalid"],
    ["aud in another case", { aud: expected.audience.toUpperCase() }, "rs_token_audience_invalid"],
    ["aud an array without it", { aud: ["https://other.example.test"] }, "rs_token_audience_invalid"],
    ["aud missing", { aud: undefined }, "rs_token_audience_invalid"],
    ["exp a string", { exp: String(NOW + 600) }, "rs_token_claims_invalid"],
    ["exp exactly now - skew", { exp: NOW - 30 }, "rs_token_expired"],
    ["iat missing", { iat: undefined }, "rs_token_claims_invalid"],
    ["iat beyond the skew", { iat: NOW + 31 }, "rs_token_not_yet_valid"],
    ["nbf beyond the skew", { nbf: NOW + 31 }, "rs_token_not_yet_valid"],
    ["nbf a string", { nbf: "soon" }, "rs_token_claims_invalid"],
    ["no client_id", { client_id: undefined }, "rs_token_claims_invalid"],
    ["an empty sub and client_id", { sub: "", client_id: "" }, "rs_token_claims_invalid"],
    ["no jti", { jti: undefined }, "rs_token_claims_invalid"],
    ["scope an array", { scope: ["read"] }, "rs_token_claims_invalid"],
    ["cnf a string", { cnf: "t" }, "rs_token_claims_invalid"],
    ["cnf.jkt empty", { cnf: { jkt: "" } }, "rs_token_claims_invalid"],
  ])("refuses %s", (_name, overrides, reason) => {
    expect(checkClaims(overrides)).toBe(reason);
  });

  it("accepts exp one second after now - skew, and iat and nbf at now + skew", () => {
    expect(checkClaims({ exp: NOW - 29, iat: NOW + 30, nbf: NOW + 30 })).toBe("accepted");
  });
});

describe("decodeAccessToken", () => {
  const segment = (value: unknown) => base64url.encode(JSON.stringify(value));
  const token = (header: Record<string, unknown>, payload: unknown = claims()) =>
    `${segment({ alg: "ES256", typ: "at+jwt", kid: "k1", ...header })}.${segment(payload)}.${base64url.encode(new Uint8Array(64))}`;
  const decode = (value: string) => reasonOf(() => decodeAccessToken(value, ["ES256", "RS256"]));

  it.each<[string, string, string]>([
    ["two segments", "a.b", "rs_token_malformed"],
    ["typ JWT", token({ typ: "JWT" }), "rs_token_typ_invalid"],
    ["no typ", token({ typ: undefined }), "rs_token_typ_invalid"],
    ["typ dpop+jwt", token({ typ: "dpop+jwt" }), "rs_token_typ_invalid"],
    ["alg HS256", token({ alg: "HS256" }), "rs_token_alg_not_allowed"],
    ["alg none", token({ alg: "none" }), "rs_token_alg_not_allowed"],
    ["crit", token({ crit: ["exp"] }), "rs_token_malformed"],
    ["a jwk in the header", token({ jwk: { kty: "EC" } }), "rs_token_malformed"],
    ["x5u in the header", token({ x5u: "https://attacker.example/cert" }), "rs_token_malformed"],
    ["no kid", token({ kid: undefined }), "rs_token_malformed"],
    ["claims that are an array", token({}, ["a"]), "rs_token_malformed"],
  ])("refuses %s", (_name, value, reason) => {
    expect(decode(value)).toBe(reason);
  });

  it("accepts typ at+jwt in any case, with or without application/", () => {
    expect(decode(token({ typ: "AT+JWT" }))).toBe("accepted");
    expect(decode(token({ typ: "application/at+jwt" }))).toBe("accepted");
  });
});

describe("presentedToken", () => {
  const read = (values: string[]) => {
    const headers = new Headers();
    for (const value of values) headers.append("Authorization", value);
    return reasonOf(() => presentedToken(headers));
  };

  it("reads the scheme in any case and the token", () => {
    expect(presentedToken(new Headers({ Authorization: "dpop a.b.c" }))).toEqual({ scheme: "DPoP", token: "a.b.c" });
    expect(presentedToken(new Headers({ Authorization: "Bearer  a.b.c" }))).toEqual({
      scheme: "Bearer",
      token: "a.b.c",
    });
  });

  it.each<[string, string[], string]>([
    ["no header", [], "rs_token_missing"],
    ["an empty header", [""], "rs_token_missing"],
    ["another scheme", ["Basic dXNlcjpwYXNz"], "rs_token_missing"],
    ["two headers", ["Bearer a.b.c", "Bearer a.b.c"], "rs_authorization_invalid"],
    ["a comma", ["Bearer a.b.c,"], "rs_authorization_invalid"],
    ["no token", ["Bearer"], "rs_authorization_invalid"],
    ["two tokens", ["Bearer a b"], "rs_authorization_invalid"],
    ["a header over 8 KiB", [`Bearer ${"a".repeat(8 * 1024)}`], "rs_authorization_invalid"],
  ])("refuses %s", (_name, values, reason) => {
    expect(read(values)).toBe(reason);
  });
});
