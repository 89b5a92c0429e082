// A bounded per-isolate cache of public keys imported for one JWS algorithm (jose importJWK over WebCrypto), so a
// key is imported once per algorithm rather than on every request. Only the public members are ever imported. No
// I/O beyond WebCrypto, no clock, no logging; which keys are trusted is the caller's business.
import { importJWK, type JWK } from "jose";
import { BoundedCache } from "./bounded-cache";

/** The members that make up a public key (RFC 7518 section 6). */
export interface PublicKeyMembers {
  kty: string;
  crv?: string | undefined;
  n?: string | undefined;
  e?: string | undefined;
  x?: string | undefined;
  y?: string | undefined;
}

/** One string per public key, from the members that make it up: a cache key for whatever is derived from the key. */
export function publicKeyId(jwk: PublicKeyMembers): string {
  return `${jwk.kty}|${jwk.crv ?? ""}|${jwk.n ?? jwk.x ?? ""}|${jwk.e ?? jwk.y ?? ""}`;
}

export class ImportedKeyCache {
  readonly #keys: BoundedCache<string, Promise<CryptoKey>>;

  constructor(entries: number) {
    this.#keys = new BoundedCache(entries);
  }

  /** The key for `alg`, imported on first use (oldest entry evicted first); a failed import is not kept. */
  import(jwk: PublicKeyMembers, alg: string): Promise<CryptoKey> {
    const { kty, crv, n, e, x, y } = jwk;
    const cacheKey = `${alg}|${publicKeyId(jwk)}`;
    let pending = this.#keys.get(cacheKey);
    if (!pending) {
      pending = importJWK({ kty, crv, n, e, x, y } as JWK, alg) as Promise<CryptoKey>;
      pending.catch(() => this.#keys.delete(cacheKey));
      this.#keys.set(cacheKey, pending);
    }
    return pending;
  }
}
