// The one bounded map behind every per-isolate cache (client records, imported keys, jwks_uri sets and their fetch
// state): at most `capacity` entries, the oldest written dropped first. It knows nothing of what it holds, keeps no
// clock and does no I/O; freshness is the owner's business.

/** Every cache made in this isolate, so that one call can empty them all. */
const everyCache = new Set<BoundedCache<unknown, unknown>>();

export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("a bounded cache needs a capacity of at least 1");
    this.#capacity = capacity;
    everyCache.add(this as BoundedCache<unknown, unknown>);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** Stores `value` as the newest entry, dropping the oldest one when the cache is full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** Empties every bounded cache of this isolate, as a new isolate starts (tests use it between cases). */
export function clearIsolateCaches(): void {
  for (const cache of everyCache) cache.clear();
}
