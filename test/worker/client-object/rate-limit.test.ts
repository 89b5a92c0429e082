// Per-client rate limiting: the pure token bucket with a frozen clock, and 429 with Retry-After through the
// Worker for a client over its limit while other clients are still served.
import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { takeToken } from "../../../src/client-object/rate-limit";
import { buildAssertion, errorOf, postToken, registerClient, requestToken, tokenForm } from "../support";

afterEach(() => reset());

describe("takeToken", () => {
  const limit = { requests: 2, perSeconds: 10 };
  it("allows a burst up to the limit, then refuses with the wait for one token", () => {
    let d = takeToken(undefined, limit, 0);
    expect(d.allowed).toBe(true);
    d = takeToken(d.bucket, limit, 0);
    expect(d.allowed).toBe(true);
    d = takeToken(d.bucket, limit, 0);
    expect(d).toMatchObject({ allowed: false, retryAfterSeconds: 5 });
  });
  it("refills at requests / perSeconds", () => {
    let d = takeToken(undefined, limit, 0);
    d = takeToken(d.bucket, limit, 0);
    expect(takeToken(d.bucket, limit, 4_999).allowed).toBe(false);
    expect(takeToken(d.bucket, limit, 5_000).allowed).toBe(true);
  });
  it("never stores more than the burst", () => {
    const d = takeToken({ tokens: 0, updatedMs: 0 }, limit, 1_000_000);
    expect(d.bucket.tokens).toBe(1);
  });
});

describe("rate-limited client", () => {
  it("gets 429 with Retry-After over its rate while another client is served", async () => {
    const limited = await registerClient({ record: { rate_limit: { requests: 2, per_seconds: 60 } } });
    const other = await registerClient();
    expect((await requestToken(limited)).status).toBe(200);
    expect((await requestToken(limited)).status).toBe(200);
    const refused = await requestToken(limited);
    expect(await errorOf(refused.clone())).toMatchObject({ status: 429, error: "temporarily_unavailable" });
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) expect((await requestToken(other)).status).toBe(200);
  });

  it("does not spend the jti of a rate-limited request", async () => {
    const limited = await registerClient({ record: { rate_limit: { requests: 1, per_seconds: 3600 } } });
    expect((await requestToken(limited)).status).toBe(200);
    const assertion = await buildAssertion(limited, { claims: { jti: "kept" } });
    expect((await postToken(tokenForm(assertion))).status).toBe(429);
    // Lift the limit: the very same assertion is still usable, so the refused attempt did not burn it.
    await registerClient({ clientId: limited.clientId, record: { rate_limit: undefined } });
    expect((await postToken(tokenForm(assertion))).status).toBe(200);
  });

  it("is off unless configured", async () => {
    const client = await registerClient();
    const statuses = await Promise.all(Array.from({ length: 15 }, () => requestToken(client).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
  });
});
