// Parses the SIGNING_KEYS secret (a JWK Set of private keys; the first is active) and imports it once per
// isolate; checks the active key against the profile. Publishes only public halves. Never logs key material; a bad
// secret fails with a message naming it.
import { createLocalJWKSet, importJWK, type JWK, type JWTVerifyGetKey } from "jose";
import { FAPI2_ALGORITHMS, type Profile, SIGNING_ALGORITHMS, type SigningAlgorithm } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { type ClientJwk, JwkError, keyFitsAlgorithm, PRIVATE_JWK_MEMBERS, validatePublicJwk } from "../protocol/jwk";

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
}

export interface SigningKeySet {
  active: SigningKey;
  /** Public JWK Set served at the jwks_uri: every configured key, active first. */
  publicJwks: { keys: Array<Record<string, unknown>> };
  /**
   * An HMAC key derived from the secret (HKDF, its own label): it authenticates the key sets this Worker keeps in the
   * Cache API, which any other Worker of the zone could write to. Never leaves the isolate, never signs a token.
   */
  cacheIntegrityKey: CryptoKey;
}

const CACHE_INTEGRITY_LABEL = "edge-token-service: Cache API key sets, v1";

async function deriveCacheIntegrityKey(raw: string): Promise<CryptoKey> {
  const encode = (text: string) => new TextEncoder().encode(text);
  const material = await crypto.subtle.importKey("raw", encode(raw), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encode(CACHE_INTEGRITY_LABEL) },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

const PRIVATE_MEMBERS: ReadonlySet<string> = new Set(PRIVATE_JWK_MEMBERS);

function fail(detail: string): never {
  throw new TokenServiceError("config_invalid", `SIGNING_KEYS: ${detail}`);
}

/** Checks the secret's shape and returns the keys with their public halves. Pure: no crypto import. */
export function parseSigningKeys(
  raw: string | undefined,
): Array<{ jwk: JWK; kid: string; alg: SigningAlgorithm; publicJwk: Record<string, unknown> }> {
  if (!raw) fail("the secret is not set (run `npm run dev` once locally, or `wrangler secret put SIGNING_KEYS`)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail("the secret is not JSON");
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) fail('expected a JWK Set: {"keys":[...]} with at least one key');
  const kids = new Set<string>();
  return keys.map((key: unknown, index: number) => {
    if (typeof key !== "object" || key === null) fail(`key ${index + 1} is not an object`);
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kid !== "string" || jwk.kid.length === 0) fail(`key ${index + 1} has no kid`);
    if (kids.has(jwk.kid)) fail(`kid ${jwk.kid} appears twice`);
    kids.add(jwk.kid);
    if (typeof jwk.alg !== "string" || !(SIGNING_ALGORITHMS as readonly string[]).includes(jwk.alg)) {
      fail(`key ${jwk.kid} needs an alg among ${SIGNING_ALGORITHMS.join(", ")}`);
    }
    if (typeof jwk.d !== "string") fail(`key ${jwk.kid} is not a private key`);
    const publicPart: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(jwk)) {
      if (!PRIVATE_MEMBERS.has(name) && name !== "key_ops" && name !== "ext") publicPart[name] = value;
    }
    let checked: ClientJwk;
    try {
      checked = validatePublicJwk(publicPart);
    } catch (err) {
      fail(`key ${jwk.kid}: ${err instanceof JwkError ? err.message : "invalid"}`);
    }
    const alg = jwk.alg as SigningAlgorithm;
    if (!keyFitsAlgorithm(checked, alg)) fail(`key ${jwk.kid}: alg ${alg} does not match the key`);
    return { jwk: jwk as JWK, kid: jwk.kid, alg, publicJwk: { ...publicPart, use: "sig", alg, kid: jwk.kid } };
  });
}

let cached: { raw: string; keys: Promise<SigningKeySet> } | null = null;

async function importSigningKeys(raw: string | undefined): Promise<SigningKeySet> {
  const parsed = parseSigningKeys(raw);
  const first = parsed[0]!;
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK(first.jwk, first.alg)) as CryptoKey;
  } catch {
    fail(`key ${first.kid} cannot be imported`);
  }
  return {
    active: { kid: first.kid, alg: first.alg, privateKey },
    publicJwks: { keys: parsed.map((k) => k.publicJwk) },
    cacheIntegrityKey: await deriveCacheIntegrityKey(raw!),
  };
}

/** The signing key set for this secret value, imported once per isolate (re-imported only if the secret changes). */
export function signingKeysFor(raw: string | undefined): Promise<SigningKeySet> {
  const key = raw ?? "";
  if (!cached || cached.raw !== key) {
    const keys = importSigningKeys(raw);
    cached = { raw: key, keys };
    keys.catch(() => {
      if (cached?.keys === keys) cached = null;
    });
  }
  return cached.keys;
}

/**
 * Under PROFILE=fapi2 the active key must sign with PS256, ES256 or EdDSA (FAPI 2.0 section 5.4); older keys may stay
 * published for tokens they signed. Throws config_invalid naming the key otherwise.
 */
export function checkActiveKeyForProfile(keys: SigningKeySet, profile: Profile): void {
  if (profile !== "fapi2") return;
  if (!(FAPI2_ALGORITHMS as readonly string[]).includes(keys.active.alg)) {
    fail(
      `the active key ${keys.active.kid} signs ${keys.active.alg}, which PROFILE=fapi2 does not allow (PS256, ES256 or EdDSA)`,
    );
  }
}

const localKeySets = new WeakMap<SigningKeySet, JWTVerifyGetKey>();

/**
 * The published keys as a jose key lookup, for verifying tokens this server signed (admin tokens, revocation,
 * introspection): a key removed from SIGNING_KEYS verifies nothing any more. Built once per key set.
 */
export function verificationKeys(keys: SigningKeySet): JWTVerifyGetKey {
  let jwks = localKeySets.get(keys);
  if (!jwks) {
    jwks = createLocalJWKSet(keys.publicJwks as Parameters<typeof createLocalJWKSet>[0]);
    localKeySets.set(keys, jwks);
  }
  return jwks;
}
