// Per-client rate limiting: the pure token bucket with a frozen clock, and 429 with Retry-After through the
// Worker for a client over its limit while other clients are still served.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { takeToken } from "../../../src/client-authority/rate-limit";
import {
  buildAssertion,
  expectIssued,
  postToken,
  refusalOf,
  registerClient,
  requestToken,
  tokenForm,
} from "../support";

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
    await expectIssued(await requestToken(limited));
    await expectIssued(await requestToken(limited));
    const refused = await requestToken(limited);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(await refusalOf(refused)).toEqual({ status: 429, error: "temporarily_unavailable", reason: "rate_limited" });
    for (let i = 0; i < 5; i++) await expectIssued(await requestToken(other));
  });

  it("does not spend the jti of a rate-limited request", async () => {
    const limited = await registerClient({ record: { rate_limit: { requests: 1, per_seconds: 3600 } } });
    await expectIssued(await requestToken(limited));
    const assertion = await buildAssertion(limited, { claims: { jti: "kept" } });
    expect(await refusalOf(await postToken(tokenForm(assertion)))).toEqual({
      status: 429,
      error: "temporarily_unavailable",
      reason: "rate_limited",
    });
    // Lift the limit at the client's authority: the very same assertion is then accepted, so the refused attempt did
    // not burn its jti (the Worker's cached record still has the limit; the authority's newer one wins).
    const authority = env.CLIENT_AUTHORITY.getByName(limited.clientId);
    const patch = { kind: "patch" as const, patch: { rate_limit: null } };
    expect(await authority.change(limited.clientId, patch, undefined, { clientId: "test" })).toMatchObject({
      ok: true,
    });
    await expectIssued(await postToken(tokenForm(assertion)));
  });

  it("is off unless configured", async () => {
    const client = await registerClient();
    const responses = await Promise.all(Array.from({ length: 15 }, () => requestToken(client)));
    expect(responses.map((r) => r.status)).toEqual(Array(15).fill(200));
  });
});
