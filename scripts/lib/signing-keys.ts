// Generates and rotates the service's signing keys (the SIGNING_KEYS secret: a JWK Set of private keys,
// active key first). Node side; uses WebCrypto through jose. Never prints or logs a key itself.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

export const SIGNING_KEY_ALGORITHMS = ["ES256", "ES384", "PS256", "RS256", "EdDSA"] as const;
export type SigningKeyAlgorithm = (typeof SIGNING_KEY_ALGORITHMS)[number];

export function isSigningKeyAlgorithm(value: string): value is SigningKeyAlgorithm {
  return (SIGNING_KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** A new private signing JWK with `kid` = RFC 7638 thumbprint, `alg` and `use` set. */
export async function generateSigningJwk(alg: SigningKeyAlgorithm = "ES256"): Promise<JWK> {
  const options = alg === "EdDSA" ? { crv: "Ed25519", extractable: true } : { extractable: true, modulusLength: 2048 };
  const { privateKey } = await generateKeyPair(alg, options);
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: "sig" };
}

/** A SIGNING_KEYS value holding one new key. */
export async function newSigningKeySet(alg: SigningKeyAlgorithm = "ES256"): Promise<{ keys: JWK[] }> {
  return { keys: [await generateSigningJwk(alg)] };
}

/**
 * Rotation: a new active key first, the previous keys kept after it so tokens they signed still verify.
 * `keep` bounds how many previous keys stay published.
 */
export async function rotateSigningKeySet(
  current: { keys: JWK[] },
  alg: SigningKeyAlgorithm = "ES256",
  keep = 2,
): Promise<{ keys: JWK[] }> {
  const next = await generateSigningJwk(alg);
  return { keys: [next, ...current.keys.slice(0, keep)] };
}
