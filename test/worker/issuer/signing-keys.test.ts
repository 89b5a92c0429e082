// Unit tests for the SIGNING_KEYS secret: shape, algorithms, private keys only, published public halves.
import { describe, expect, it } from "vitest";
import { parseSigningKeys } from "../../../src/issuer/signing-keys";
import { clientKey } from "../support";
import { reasonAndDetailOf as detailOf } from "../verdict";

describe("parseSigningKeys", () => {
  it("publishes only public members, with use, alg and kid", async () => {
    const { privateKey } = await clientKey("ES256");
    const { exportJWK } = await import("jose");
    const jwk = { ...(await exportJWK(privateKey)), kid: "k1", alg: "ES256" };
    const [parsed] = parseSigningKeys(JSON.stringify({ keys: [jwk] }));
    expect(parsed!.publicJwk).not.toHaveProperty("d");
    expect(parsed!.publicJwk).toMatchObject({ kty: "EC", crv: "P-256", kid: "k1", alg: "ES256", use: "sig" });
  });
  const cases: Array<[string, string | undefined, RegExp]> = [
    ["rejects a missing secret", undefined, /SIGNING_KEYS: the secret is not set/],
    ["rejects a secret that is not JSON", "{keys", /not JSON/],
    ["rejects an empty key set", '{"keys":[]}', /at least one key/],
    ["rejects a key without kid", '{"keys":[{"kty":"EC","alg":"ES256","d":"x"}]}', /has no kid/],
    [
      "rejects a key with an unsupported alg",
      '{"keys":[{"kid":"a","kty":"oct","alg":"HS256","k":"x"}]}',
      /needs an alg/,
    ],
    ["rejects a public key", '{"keys":[{"kid":"a","kty":"EC","alg":"ES256","crv":"P-256"}]}', /not a private key/],
  ];
  for (const [name, raw, expected] of cases) {
    it(name, () => expect(detailOf(() => parseSigningKeys(raw))).toMatch(expected));
  }
});
