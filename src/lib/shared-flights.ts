// Work in flight shared by concurrent callers, one flight per key, each caller waiting a bounded time: in workerd a
// fetch belongs to the request that started it, and if that request is cancelled the shared promise may never
// settle. So nobody waits longer than the bound, and a flight older than the bound is replaced rather than joined.
// It knows nothing of what the work is; it keeps no clock (callers pass theirs) and does no I/O of its own.
import { BoundedCache } from "./bounded-cache";

/** `promise`, or a rejection with `timeout()` once `ms` have passed on this caller's own timer (then cleared). */
export function settleWithin<T>(promise: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  return Promise.race([promise, expired]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

interface Flight<T> {
  promise: Promise<T>;
  /** Its starting caller's clock. */
  startedAtMs: number;
}

export class SharedFlights<K, T> {
  readonly #flights: BoundedCache<K, Flight<T>>;
  readonly #boundMs: number;
  readonly #timeout: () => Error;

  /** At most `capacity` keys in flight; each caller waits at most `boundMs`, then gets `timeout()`. */
  constructor(capacity: number, boundMs: number, timeout: () => Error) {
    this.#flights = new BoundedCache(capacity);
    this.#boundMs = boundMs;
    this.#timeout = timeout;
  }

  /** Joins the flight for `key` started within the bound, else starts `start()` as the new one; waits the bound. */
  join(key: K, nowMs: number, start: () => Promise<T>): Promise<T> {
    let flight = this.#flights.get(key);
    if (flight === undefined || nowMs - flight.startedAtMs > this.#boundMs) {
      const started: Flight<T> = { promise: start(), startedAtMs: nowMs };
      // A replaced flight that settles late must not remove its successor.
      const forget = () => {
        if (this.#flights.get(key) === started) this.#flights.delete(key);
      };
      started.promise.then(forget, forget);
      this.#flights.set(key, started);
      flight = started;
    }
    return settleWithin(flight.promise, this.#boundMs, this.#timeout);
  }
}
