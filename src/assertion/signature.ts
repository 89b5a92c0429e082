// Verifies a client assertion's signature against the candidate keys key-selection.ts picks from the client's
// registered keys; never against keys or URLs from the token header. Imported keys are cached per isolate.
// Crypto only: no clock, no storage, no logging.
import { compactVerify } from "jose";
import { ImportedKeyCache } from "../lib/imported-keys";
import { type AssertionAlgorithm, KEY_CACHE_ENTRIES } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import type { ClientJwk } from "../protocol/jwk";
import type { AssertionHeader } from "./decode";
import { rememberVerifiedWithoutKid, selectCandidateKeys } from "./key-selection";

const importedKeys = new ImportedKeyCache(KEY_CACHE_ENTRIES);

/** Imports a public JWK for one algorithm, once per isolate (bounded, oldest entry evicted first). */
export function importVerificationKey(jwk: ClientJwk, alg: AssertionAlgorithm): Promise<CryptoKey> {
  return importedKeys.import(jwk, alg);
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
      if (header.kid === undefined) rememberVerifiedWithoutKid(keys, jwk);
      return jwk;
    } catch {
      // ERR_JWS_SIGNATURE_VERIFICATION_FAILED or a malformed signature: try the next candidate.
    }
  }
  throw new TokenServiceError("signature_invalid");
}
