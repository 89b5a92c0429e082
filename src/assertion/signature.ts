// Verifies a client assertion's signature against the keys registered for that client, chosen by `kid`,
// key type and curve; never against keys or URLs from the token header. Imported keys are cached per isolate.
// Crypto only: no clock, no storage, no logging.
import { compactVerify, importJWK, type JWK } from "jose";
import { KEY_CACHE_ENTRIES, LIMITS, type AssertionAlgorithm } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { keyFitsAlgorithm, type ClientJwk } from "../protocol/jwk";
import type { AssertionHeader } from "./decode";

/**
 * For a key set seen without `kid`, the key that verified last. Keyed by the set object itself, which lives as
 * long as the cached client record or JWK Set holds it: a client that always signs with the same kid-less key
 * costs one verification per request, not up to maxKeysTriedPerRequest. Only the order of tries changes.
 */
const lastVerifiedWithoutKid = new WeakMap<readonly ClientJwk[], ClientJwk>();

/** The registered keys that may have signed an assertion with this header, the likeliest first. */
export function selectCandidateKeys(keys: readonly ClientJwk[], header: AssertionHeader): ClientJwk[] {
  const fitting = keys.filter((key) => keyFitsAlgorithm(key, header.alg));
  if (header.kid !== undefined) return fitting.filter((key) => key.kid === header.kid);
  const tried = fitting.slice(0, LIMITS.maxKeysTriedPerRequest);
  const last = lastVerifiedWithoutKid.get(keys);
  const at = last === undefined ? -1 : tried.indexOf(last);
  if (at > 0) tried.unshift(...tried.splice(at, 1));
  return tried;
}

const importedKeys = new Map<string, Promise<CryptoKey>>();

/** Imports a public JWK for one algorithm, once per isolate (bounded, oldest entry evicted first). */
export function importVerificationKey(jwk: ClientJwk, alg: AssertionAlgorithm): Promise<CryptoKey> {
  const cacheKey = `${alg}|${jwk.kty}|${jwk.crv ?? ""}|${jwk.n ?? jwk.x ?? ""}|${jwk.e ?? jwk.y ?? ""}`;
  let pending = importedKeys.get(cacheKey);
  if (!pending) {
    const { kty, crv, n, e, x, y } = jwk;
    pending = importJWK({ kty, crv, n, e, x, y } as JWK, alg) as Promise<CryptoKey>;
    pending.catch(() => importedKeys.delete(cacheKey));
    if (importedKeys.size >= KEY_CACHE_ENTRIES) {
      const oldest = importedKeys.keys().next().value;
      if (oldest !== undefined) importedKeys.delete(oldest);
    }
    importedKeys.set(cacheKey, pending);
  }
  return pending;
}

/**
 * Verifies the compact JWS with the first candidate key that accepts it, and returns that key.
 * Throws no_matching_key when no registered key fits the header, signature_invalid when none verifies.
 */
export async function verifyAssertionSignature(
  compact: string,
  header: AssertionHeader,
  keys: readonly ClientJwk[],
): Promise<ClientJwk> {
  const candidates = selectCandidateKeys(keys, header);
  if (candidates.length === 0) throw new TokenServiceError("no_matching_key");
  for (const jwk of candidates) {
    let key: CryptoKey;
    try {
      key = await importVerificationKey(jwk, header.alg);
    } catch {
      continue; // a registered key the runtime cannot import (e.g. a point off the curve) verifies nothing
    }
    try {
      await compactVerify(compact, key, { algorithms: [header.alg] });
      if (header.kid === undefined) lastVerifiedWithoutKid.set(keys, jwk);
      return jwk;
    } catch {
      // ERR_JWS_SIGNATURE_VERIFICATION_FAILED or a malformed signature: try the next candidate.
    }
  }
  throw new TokenServiceError("signature_invalid");
}
