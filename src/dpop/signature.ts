// Verifies a DPoP proof's signature with the public key in its own header (RFC 9449 section 4.3, check 7), and gives
// that key's RFC 7638 SHA-256 thumbprint, the `cnf.jkt` a bound access token carries (section 6.1). Crypto only: no
// clock, no storage, no logging; the key was validated by decode.ts and is never looked up anywhere. Imported proof
// keys and their thumbprints are cached per isolate (a client keeps its proof key across requests), apart from client
// keys.
import { base64url, calculateJwkThumbprint, compactVerify, type JWK } from "jose";
import { BoundedCache } from "../lib/bounded-cache";
import { ImportedKeyCache, publicKeyId } from "../lib/imported-keys";
import { type AssertionAlgorithm, LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import type { ClientJwk } from "../protocol/jwk";

/** The public members of a validated key, the only ones a crypto import sees. */
function publicMembers(jwk: ClientJwk): JWK {
  const { kty, crv, n, e, x, y } = jwk;
  return { kty, crv, n, e, x, y };
}

const importedKeys = new ImportedKeyCache(LIMITS.dpopKeyCacheEntries);

/** Verifies the compact JWS with `jwk`; throws dpop_signature_invalid when it does not verify or cannot be imported. */
export async function verifyDpopSignature(compact: string, jwk: ClientJwk, alg: AssertionAlgorithm): Promise<void> {
  let key: CryptoKey;
  try {
    key = await importedKeys.import(jwk, alg);
  } catch {
    throw new TokenServiceError("dpop_signature_invalid", "the jwk cannot be imported");
  }
  try {
    await compactVerify(compact, key, { algorithms: [alg] });
  } catch {
    throw new TokenServiceError("dpop_signature_invalid");
  }
}

const thumbprints = new BoundedCache<string, Promise<string>>(LIMITS.dpopKeyCacheEntries);

/** RFC 7638 thumbprint (SHA-256, base64url) of the proof key: the `jkt` that binds a token to it. Kept per isolate. */
export function jwkThumbprint(jwk: ClientJwk): Promise<string> {
  const cacheKey = publicKeyId(jwk);
  let thumbprint = thumbprints.get(cacheKey);
  if (!thumbprint) {
    thumbprint = calculateJwkThumbprint(publicMembers(jwk), "sha256");
    thumbprint.catch(() => thumbprints.delete(cacheKey));
    thumbprints.set(cacheKey, thumbprint);
  }
  return thumbprint;
}

/** RFC 9449 section 4.2: `ath`, the base64url SHA-256 of the ASCII access token. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}
