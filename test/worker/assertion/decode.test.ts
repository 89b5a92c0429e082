// Unit tests for decodeAssertion: every header and compact-serialisation rule, each refusal by its reason code.
import { describe, expect, it } from "vitest";
import { decodeAssertion } from "../../../src/assertion/decode";
import type { Reason } from "../../../src/protocol/errors";
import { reasonOf as verdictOf } from "../verdict";

const reasonOf = (token: string) => verdictOf(() => decodeAssertion(token));

const b64 = (text: string) => btoa(text).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const json = (value: unknown) => b64(JSON.stringify(value));
const CLAIMS = json({ iss: "c", sub: "c", aud: "https://as.example.test", exp: 1, jti: "j" });
const SIG = b64("signature-bytes");

function compact(header: unknown, claims = CLAIMS, sig = SIG) {
  return `${typeof header === "string" ? header : json(header)}.${claims}.${sig}`;
}

describe("decodeAssertion", () => {
  it("returns alg, kid and the claims of a well-formed assertion", () => {
    const decoded = decodeAssertion(compact({ alg: "ES256", kid: "k1", typ: "JWT" }));
    expect(decoded.header).toEqual({ alg: "ES256", kid: "k1" });
    expect(decoded.claims.iss).toBe("c");
  });

  const cases: Array<[string, string, Reason | "accepted"]> = [
    ["rejects when alg is none", compact({ alg: "none" }), "alg_not_allowed"],
    ["rejects when alg is HS256 (HMAC keyed with a public key)", compact({ alg: "HS256" }), "alg_not_allowed"],
    ["rejects when alg is missing", compact({ typ: "JWT" }), "alg_not_allowed"],
    ["rejects when alg differs only in case", compact({ alg: "es256" }), "alg_not_allowed"],
    ["rejects when the header carries a jwk", compact({ alg: "ES256", jwk: { kty: "EC" } }), "header_key_material"],
    [
      "rejects when the header carries a jku",
      compact({ alg: "ES256", jku: "https://evil.example/jwks" }),
      "header_key_material",
    ],
    [
      "rejects when the header carries an x5u",
      compact({ alg: "ES256", x5u: "https://evil.example/cert" }),
      "header_key_material",
    ],
    ["rejects when the header carries an x5c", compact({ alg: "RS256", x5c: ["MIIB"] }), "header_key_material"],
    ["rejects when the header has crit", compact({ alg: "ES256", crit: ["exp"], exp: 1 }), "crit_not_supported"],
    ["rejects when the header has b64", compact({ alg: "ES256", b64: false }), "crit_not_supported"],
    ["rejects when typ is at+jwt", compact({ alg: "ES256", typ: "at+jwt" }), "typ_not_allowed"],
    ["rejects when typ is dpop+jwt", compact({ alg: "ES256", typ: "dpop+jwt" }), "typ_not_allowed"],
    ["rejects when typ is not a string", compact({ alg: "ES256", typ: 1 }), "typ_not_allowed"],
    ["accepts typ client-authentication+jwt", compact({ alg: "ES256", typ: "client-authentication+jwt" }), "accepted"],
    ["accepts typ application/JWT", compact({ alg: "ES256", typ: "application/JWT" }), "accepted"],
    ["accepts no typ", compact({ alg: "PS256" }), "accepted"],
    ["rejects when kid is empty", compact({ alg: "ES256", kid: "" }), "header_invalid"],
    ["rejects when kid is not a string", compact({ alg: "ES256", kid: 5 }), "header_invalid"],
    ["rejects a JWE (five segments)", `${json({ alg: "RSA-OAEP", enc: "A256GCM" })}.a.b.c.d`, "assertion_encrypted"],
    ["rejects a header with enc", compact({ alg: "ES256", enc: "A256GCM" }), "assertion_encrypted"],
    ["rejects two segments", `${json({ alg: "ES256" })}.${CLAIMS}`, "assertion_malformed"],
    ["rejects four segments", `${compact({ alg: "ES256" })}.x`, "assertion_malformed"],
    ["rejects an empty signature", compact({ alg: "ES256" }, CLAIMS, ""), "assertion_malformed"],
    ["rejects padding in a segment", compact({ alg: "ES256" }, CLAIMS, `${SIG}=`), "assertion_malformed"],
    ["rejects standard base64 characters", compact({ alg: "ES256" }, CLAIMS, "ab+/"), "assertion_malformed"],
    ["rejects a header that is not JSON", compact(b64("not json")), "header_invalid"],
    ["rejects a header that is a JSON array", compact(json(["alg", "ES256"])), "header_invalid"],
    ["rejects a header with duplicate members", compact(b64('{"alg":"ES256","alg":"none"}')), "header_invalid"],
    ["rejects a header that is not UTF-8", compact(b64("\xff\xfe{}")), "header_invalid"],
    [
      "rejects a header whose JSON strings are not UTF-8",
      compact(b64('{"alg":"ES256","kid":"\xff"}')),
      "header_invalid",
    ],
    ["rejects claims that are not an object", compact({ alg: "ES256" }, json("string")), "claims_invalid"],
    [
      "rejects claims with duplicate members",
      compact({ alg: "ES256" }, b64('{"iss":"a","iss":"b"}')),
      "claims_invalid",
    ],
    [
      "rejects an assertion over the size limit",
      compact({ alg: "ES256" }, b64("x".repeat(9000))),
      "assertion_too_large",
    ],
    ["rejects an oversized header", compact({ alg: "ES256", pad: "x".repeat(1100) }), "header_invalid"],
  ];
  for (const [name, token, expected] of cases) {
    it(name, () => expect(reasonOf(token)).toBe(expected));
  }
});
