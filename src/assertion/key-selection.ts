// Chooses which of a client's registered keys may have signed an assertion: those whose type, curve and pinned
// `alg` fit the header's `alg`, then the one its `kid` names, or at most LIMITS.maxKeysTriedPerRequest without a kid.
// Pure apart from a per-isolate memo of the key that verified last; no crypto, no clock, no storage.
import { LIMITS } from "../protocol/constants";
import { type ClientJwk, keyFitsAlgorithm } from "../protocol/jwk";
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

/** Records the key that verified a kid-less assertion, so the next one for the same key set tries it first. */
export function rememberVerifiedWithoutKid(keys: readonly ClientJwk[], jwk: ClientJwk): void {
  lastVerifiedWithoutKid.set(keys, jwk);
}
