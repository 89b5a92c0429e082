// Unit tests for decodeDpopProof: each header rule of RFC 9449 section 4.3 (one proof, a JWS, typ dpop+jwt, an allowed
// asymmetric alg, a public jwk that fits it, no other key members), by the reason code each refusal names.
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import { decodeDpopProof } from "../../../src/dpop/decode";
import { ASSERTION_ALGORITHMS, FAPI2_ALGORITHMS } from "../../../src/protocol/constants";
import { reasonOf } from "../verdict";
import { buildProof, proofKey, unsignedProof } from "./proofs";

const HTU = "https://as.example.test/token";
const decode = (value: string) => reasonOf(() => decodeDpopProof(value, ASSERTION_ALGORITHMS));

describe("decodeDpopProof", () => {
  it("accepts a well-formed proof and returns its alg, validated jwk and claims", async () => {
    const key = await proofKey();
    const proof = decodeDpopProof(await buildProof(key, HTU), ASSERTION_ALGORITHMS);
    expect(proof.alg).toBe("ES256");
    expect(proof.jwk).toMatchObject({ kty: "EC", crv: "P-256", x: key.publicJwk.x, y: key.publicJwk.y });
    expect(proof.claims).toMatchObject({ htm: "POST", htu: HTU });
  });

  it("accepts typ in another case and with the application/ prefix (RFC 7515 section 4.1.9)", async () => {
    const key = await proofKey();
    for (const typ of ["DPoP+JWT", "application/dpop+jwt"]) {
      expect(decode(await buildProof(key, HTU, { header: { typ } }))).toBe("accepted");
    }
  });

  it("refuses two proofs (two DPoP headers arrive joined by a comma)", async () => {
    const key = await proofKey();
    expect(decode(`${await buildProof(key, HTU)}, ${await buildProof(key, HTU)}`)).toBe("dpop_proof_multiple");
  });

  it.each([
    ["not a JWS", "not-a-jws"],
    ["a JWE (five segments)", "a.b.c.d.e"],
    ["a header that is not JSON", "bm90IGpzb24.e30.AAAA"],
    ["an oversized proof", `${"a".repeat(9000)}.e30.AAAA`],
  ])("refuses %s as malformed", (_name, value) => {
    expect(decode(value)).toBe("dpop_proof_malformed");
  });

  it("refuses a header with a duplicate member (two parsers must never disagree)", () => {
    const header = base64url.encode('{"typ":"dpop+jwt","typ":"JWT","alg":"ES256"}');
    expect(decode(`${header}.e30.AAAA`)).toBe("dpop_proof_malformed");
  });

  it.each([["JWT"], ["at+jwt"], [undefined]])("refuses typ %s", async (typ) => {
    const key = await proofKey();
    expect(decode(await buildProof(key, HTU, { header: { typ } }))).toBe("dpop_typ_invalid");
  });

  it("refuses alg none", async () => {
    const key = await proofKey();
    expect(decode(unsignedProof({ typ: "dpop+jwt", alg: "none", jwk: key.publicJwk }, {}))).toBe(
      "dpop_alg_not_allowed",
    );
  });

  it("refuses an HMAC alg", async () => {
    const key = await proofKey();
    expect(decode(unsignedProof({ typ: "dpop+jwt", alg: "HS256", jwk: key.publicJwk }, {}))).toBe(
      "dpop_alg_not_allowed",
    );
  });

  it("refuses an alg outside the profile's list (RS256 under FAPI 2.0)", async () => {
    const key = await proofKey("RS256");
    const proof = await buildProof(key, HTU);
    expect(reasonOf(() => decodeDpopProof(proof, FAPI2_ALGORITHMS))).toBe("dpop_alg_not_allowed");
    expect(reasonOf(() => decodeDpopProof(proof, ASSERTION_ALGORITHMS))).toBe("accepted");
  });

  it("refuses a proof without jwk", async () => {
    const key = await proofKey();
    expect(decode(await buildProof(key, HTU, { header: { jwk: undefined } }))).toBe("dpop_jwk_invalid");
  });

  it("refuses a jwk holding the private key", async () => {
    const key = await proofKey();
    const jwk = { ...key.publicJwk, d: "AAAA" };
    expect(decode(unsignedProof({ typ: "dpop+jwt", alg: "ES256", jwk }, {}))).toBe("dpop_jwk_invalid");
  });

  it("refuses a symmetric jwk", () => {
    expect(decode(unsignedProof({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: "oct", k: "AAAA" } }, {}))).toBe(
      "dpop_jwk_invalid",
    );
  });

  it("refuses a jwk that does not fit the alg", async () => {
    const key = await proofKey();
    expect(decode(unsignedProof({ typ: "dpop+jwt", alg: "ES384", jwk: key.publicJwk }, {}))).toBe("dpop_jwk_invalid");
  });

  it.each([["x5c"], ["jku"], ["x5u"]])("refuses a header naming a key through %s", async (member) => {
    const key = await proofKey();
    expect(
      decode(await buildProof(key, HTU, { header: { [member]: member === "x5c" ? ["AAAA"] : "https://k.example" } })),
    ).toBe("dpop_jwk_invalid");
  });

  it("refuses crit", async () => {
    const key = await proofKey();
    expect(decode(unsignedProof({ typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk, crit: ["exp"] }, {}))).toBe(
      "dpop_proof_malformed",
    );
  });
});
