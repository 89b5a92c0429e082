// Where a resource server spends DPoP proof jtis (RFC 9449 section 11.1): the ProofReplayStore interface this verifier
// needs, and the default, a bounded in-memory store that lives as long as the verifier (one per isolate). It sees only
// its own isolate: a replay sent to another isolate or location is not caught; plug a store backed by a Durable Object
// for exactly-once. It holds jtis and times only; it logs nothing.
import { RESOURCE_SERVER } from "./limits";

/** What the verifier asks of a replay store: one atomic check-and-spend. */
export interface ProofReplayStore {
  /**
   * Spends `jti` until `retainUntilMs` (milliseconds since the epoch). Resolves true when it was not spent before,
   * false when a live entry already holds it. A store that cannot answer rejects: the request gets a 503.
   */
  spend(jti: string, retainUntilMs: number): Promise<boolean>;
}

export interface MemoryProofReplayStoreOptions {
  /** Most live jtis held; when all are live and one more comes, spend() rejects rather than forget one. */
  capacity?: number;
  /** The store's clock, in milliseconds (Date.now by default). */
  now?: () => number;
}

export class MemoryProofReplayStore implements ProofReplayStore {
  /** jti → retention end, in insertion order, which is close to retention order (every proof gets the same window). */
  readonly #spent = new Map<string, number>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: MemoryProofReplayStoreOptions = {}) {
    const capacity = options.capacity ?? RESOURCE_SERVER.proofReplayEntries;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error("MemoryProofReplayStore: capacity must be >= 1");
    this.#capacity = capacity;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#spent.size;
  }

  async spend(jti: string, retainUntilMs: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#spent.get(jti);
    if (until !== undefined && until > now) return false;
    this.#spent.delete(jti);
    this.#dropExpiredHead(now);
    if (this.#spent.size >= this.#capacity) this.#purge(now);
    if (this.#spent.size >= this.#capacity) {
      throw new Error("MemoryProofReplayStore is full of live proof jtis");
    }
    this.#spent.set(jti, retainUntilMs);
    return true;
  }

  /** Drops the oldest entries while they are past their retention: cheap, and keeps the map near its live size. */
  #dropExpiredHead(now: number): void {
    for (const [jti, until] of this.#spent) {
      if (until > now) return;
      this.#spent.delete(jti);
    }
  }

  /** Drops every entry past its retention (a full scan, only when the store is full). */
  #purge(now: number): void {
    for (const [jti, until] of this.#spent) {
      if (until <= now) this.#spent.delete(jti);
    }
  }
}
