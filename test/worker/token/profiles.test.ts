// The two operator profiles through the Worker: `default` follows RFC 10070 (the issuer as the sole audience, a string
// or a one-member array; a missing typ accepted), `fapi2` the FAPI 2.0 Security Profile (the audience a string,
// PS256 / ES256 / EdDSA only, CLOCK_SKEW bounded). Each refusal is checked by its audit reason code.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config";
import worker from "../../../src/index";
import { checkActiveKeyForProfile, type SigningKeySet } from "../../../src/issuer/signing-keys";
import {
  buildAssertion,
  expectIssued,
  ISSUER,
  invalidClient,
  postToken,
  refusalOf,
  registerClient,
  type TestVars,
  tokenForm,
} from "../support";
import { reasonAndDetailOf } from "../verdict";

const FAPI2: TestVars = { PROFILE: "fapi2" };

describe("PROFILE=default (RFC 10070)", () => {
  it("accepts the issuer alone in a one-member array as aud", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: [ISSUER] } });
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("accepts an assertion without typ", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { header: { typ: undefined } });
    await expectIssued(await postToken(tokenForm(assertion)));
  });
});

describe("PROFILE=fapi2", () => {
  it("refuses the issuer in a one-member array: FAPI 2.0 takes the audience as a string only", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client, { claims: { aud: [ISSUER] } });
    expect(await refusalOf(await postToken(tokenForm(assertion), { vars: FAPI2 }))).toEqual(
      invalidClient("aud_invalid"),
    );
  });

  it.each(["RS256", "PS384", "ES384"] as const)("refuses an assertion signed %s", async (alg) => {
    const client = await registerClient({ alg });
    expect(await refusalOf(await postToken(tokenForm(await buildAssertion(client)), { vars: FAPI2 }))).toEqual(
      invalidClient("alg_not_allowed"),
    );
  });

  it.each(["0", "9", "61"])("refuses CLOCK_SKEW=%s as a configuration error naming the variable", (skew) => {
    expect(reasonAndDetailOf(() => parseConfig({ ISSUER, PROFILE: "fapi2", CLOCK_SKEW: skew }))).toMatch(
      /^config_invalid: CLOCK_SKEW must be between 10 and 60 seconds with PROFILE=fapi2/,
    );
  });

  it("accepts CLOCK_SKEW from 10 to 60", () => {
    for (const skew of ["10", "30", "60"]) {
      expect(parseConfig({ ISSUER, PROFILE: "fapi2", CLOCK_SKEW: skew }).clockSkew).toBe(Number(skew));
    }
  });

  it("lists only PS256, ES256 and EdDSA in the metadata, for assertions and proofs", async () => {
    const request = new Request(`${ISSUER}/.well-known/oauth-authorization-server`);
    const response = await worker.fetch(request, { ...env, ...FAPI2 } as typeof env, createExecutionContext());
    const metadata = (await response.json()) as Record<string, string[]>;
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(["PS256", "ES256", "EdDSA", "Ed25519"]);
    expect(metadata.dpop_signing_alg_values_supported).toEqual(["PS256", "ES256", "EdDSA", "Ed25519"]);
  });

  it("refuses an active signing key outside PS256, ES256 and EdDSA as a configuration error naming the key", () => {
    const keys = (alg: string) => ({ active: { kid: "k1", alg } }) as unknown as SigningKeySet;
    expect(reasonAndDetailOf(() => checkActiveKeyForProfile(keys("RS256"), "fapi2"))).toBe(
      "config_invalid: SIGNING_KEYS: the active key k1 signs RS256, which PROFILE=fapi2 does not allow (PS256, ES256 or EdDSA)",
    );
    expect(reasonAndDetailOf(() => checkActiveKeyForProfile(keys("ES384"), "fapi2"))).toMatch(
      /^config_invalid: SIGNING_KEYS: the active key k1 signs ES384/,
    );
    expect(reasonAndDetailOf(() => checkActiveKeyForProfile(keys("RS256"), "default"))).toBe("accepted");
    expect(reasonAndDetailOf(() => checkActiveKeyForProfile(keys("PS256"), "fapi2"))).toBe("accepted");
  });

  it("refuses an unknown profile as a configuration error naming the variable", () => {
    expect(reasonAndDetailOf(() => parseConfig({ ISSUER, PROFILE: "fapi" }))).toBe(
      'config_invalid: PROFILE must be one of "default", "fapi2"',
    );
  });
});
