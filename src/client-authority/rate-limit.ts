// Per-client token-bucket rate limiting, as pure functions of the bucket state and the clock (passed in).
// The client's ClientAuthority Durable Object holds the bucket; nothing here does I/O.

export interface RateLimit {
  /** Requests allowed per window; also the burst size. */
  requests: number;
  /** Window length in seconds. */
  perSeconds: number;
}

export interface Bucket {
  tokens: number;
  updatedMs: number;
}

export interface RateDecision {
  allowed: boolean;
  bucket: Bucket;
  /** Whole seconds until one request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/** Refills the bucket for the elapsed time and takes one token if there is one. */
export function takeToken(previous: Bucket | undefined, limit: RateLimit, nowMs: number): RateDecision {
  const ratePerMs = limit.requests / (limit.perSeconds * 1000);
  const elapsed = previous ? Math.max(0, nowMs - previous.updatedMs) : 0;
  const tokens = previous ? Math.min(limit.requests, previous.tokens + elapsed * ratePerMs) : limit.requests;
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, updatedMs: nowMs }, retryAfterSeconds: 0 };
  return {
    allowed: false,
    bucket: { tokens, updatedMs: nowMs },
    retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / ratePerMs / 1000)),
  };
}

/** The rate limit a raw record sets (`rate_limit`), or undefined for none. */
export function rateLimitOf(record: Record<string, unknown>): RateLimit | undefined {
  const limit = record.rate_limit as { requests: number; per_seconds: number } | undefined;
  return limit && { requests: limit.requests, perSeconds: limit.per_seconds };
}
