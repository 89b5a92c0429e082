// Signature verification against a client's registered keys when the assertion names no kid: at most
// maxKeysTriedPerRequest fitting keys are tried, and the key that verified last is tried first next time.
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { decodeAssertion } from "../../../src/assertion/decode";
import { selectCandidateKeys } from "../../../src/assertion/key-selection";
import { verifyAssertionSignature } from "../../../src/assertion/signature";
import { LIMITS } from "../../../src/protocol/constants";
import { TokenServiceError } from "../../../src/protocol/errors";
import type { ClientJwk } from "../../../src/protocol/jwk";
import { type ClientKey, clientKey } from "../support";

const KEY_COUNT = LIMITS.maxKeysTriedPerRequest + 1;

/** KEY_COUNT distinct ES256 keys, registered without kids. */
async function keylessSet(): Promise<{ keys: ClientKey[]; jwks: ClientJwk[] }> {
  const keys = await Promise.all(Array.from({ length: KEY_COUNT }, (_, slot) => clientKey("ES256", 10 + slot)));
  const jwks = keys.map(({ publicJwk }) => ({ ...publicJwk, kid: undefined }) as ClientJwk);
  return { keys, jwks };
}

async function signWithoutKid(key: ClientKey): Promise<string> {
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: "ES256", typ: "JWT" })
    .sign(key.privateKey);
}

async function verify(compact: string, jwks: readonly ClientJwk[]): Promise<ClientJwk> {
  return verifyAssertionSignature(compact, decodeAssertion(compact).header, jwks);
}

describe("verifying an assertion without kid", () => {
  it("tries the registered fitting keys in order, up to the limit", async () => {
    const { jwks } = await keylessSet();
    expect(selectCandidateKeys(jwks, { alg: "ES256" })).toEqual(jwks.slice(0, LIMITS.maxKeysTriedPerRequest));
  });

  it("accepts the last key within the limit, and then tries it first for the same key set", async () => {
    const { keys, jwks } = await keylessSet();
    const signer = LIMITS.maxKeysTriedPerRequest - 1;
    expect(await verify(await signWithoutKid(keys[signer]!), jwks)).toBe(jwks[signer]);

    const order = selectCandidateKeys(jwks, { alg: "ES256" });
    expect(order[0]).toBe(jwks[signer]);
    expect(new Set(order)).toEqual(new Set(jwks.slice(0, LIMITS.maxKeysTriedPerRequest)));
    // Another signer of the same set still verifies, and becomes the first tried in turn.
    expect(await verify(await signWithoutKid(keys[0]!), jwks)).toBe(jwks[0]);
    expect(selectCandidateKeys(jwks, { alg: "ES256" })[0]).toBe(jwks[0]);
  });

  it("remembers per key set: an equal but separate set starts in registration order", async () => {
    const { keys, jwks } = await keylessSet();
    await verify(await signWithoutKid(keys[2]!), jwks);
    const reloaded = jwks.map((jwk) => ({ ...jwk }));
    expect(selectCandidateKeys(reloaded, { alg: "ES256" })).toEqual(reloaded.slice(0, LIMITS.maxKeysTriedPerRequest));
  });

  it("never tries a key beyond the limit, remembered or not", async () => {
    const { keys, jwks } = await keylessSet();
    const beyond = signWithoutKid(keys[KEY_COUNT - 1]!);
    await expect(verify(await beyond, jwks)).rejects.toSatisfy(
      (err) => err instanceof TokenServiceError && err.reason === "signature_invalid",
    );
  });

  it("ignores the remembered key when the header names a kid", async () => {
    const { keys } = await keylessSet();
    const named = keys.map(({ publicJwk }, i) => ({ ...publicJwk, kid: `k${i}` }) as ClientJwk);
    await verify(await signWithoutKid(keys[1]!), named);
    expect(selectCandidateKeys(named, { alg: "ES256", kid: "k3" })).toEqual([named[3]]);
  });
});
