// Verifies an access token's signature with the issuer's keys: a JWK Set from configuration, a function the resource
// server supplies, or by default the issuer's `/.well-known/jwks.json`, fetched and cached by jose's remote JWK Set
// (refetched on an unknown kid, at most once per cooldown). The key URL comes from configuration, never from the token.
// Crypto and that one fetch only: no clock, no logging.
import {
  compactVerify,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import type { SigningAlgorithm } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";

export type KeySetSource = JSONWebKeySet | (() => Promise<JSONWebKeySet>);

/** Verifies `token` (compact JWS) signed with `alg`; throws rs_token_signature_invalid or rs_jwks_unavailable. */
export type TokenSignatureCheck = (token: string, alg: SigningAlgorithm) => Promise<void>;

/** Keys jose has imported, per JWK Set a source function returned: a function that returns a cached set reuses them. */
const localSets = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();

function localSet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  let set = localSets.get(jwks);
  if (!set) {
    set = createLocalJWKSet(jwks);
    localSets.set(jwks, set);
  }
  return set;
}

/** The key lookup for a source: `jwksUrl` (from the configured issuer) when the resource server gave none. */
function baseLookup(source: KeySetSource | undefined, jwksUrl: URL): JWTVerifyGetKey {
  if (source === undefined) return createRemoteJWKSet(jwksUrl);
  if (typeof source !== "function") return localSet(source);
  return async (header, token) => localSet(await source())(header, token);
}

/**
 * The lookup, its failures sorted: no key (or no single key) for the token's kid and alg is the token's fault; anything
 * else (a fetch, a timeout, a body or a function result that is no JWK Set, a key that cannot be imported) means the
 * issuer's keys cannot be had right now.
 */
export function keyLookup(source: KeySetSource | undefined, jwksUrl: URL): JWTVerifyGetKey {
  const lookup = baseLookup(source, jwksUrl);
  return async (header, token) => {
    try {
      return await lookup(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
        throw new TokenServiceError("rs_token_signature_invalid", err.code);
      }
      const detail = err instanceof errors.JOSEError ? err.code : err instanceof Error ? err.name : undefined;
      throw new TokenServiceError("rs_jwks_unavailable", detail, { cause: err });
    }
  };
}

/** Checks the signature with the key the lookup gives for the token's kid and alg. */
export function tokenSignatureCheck(lookup: JWTVerifyGetKey): TokenSignatureCheck {
  return async (token, alg) => {
    try {
      await compactVerify(token, lookup, { algorithms: [alg] });
    } catch (err) {
      if (err instanceof TokenServiceError) throw err;
      throw new TokenServiceError("rs_token_signature_invalid", err instanceof errors.JOSEError ? err.code : undefined);
    }
  };
}
