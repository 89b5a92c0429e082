// Unit tests for the stateless DPoP nonces: a nonce is accepted for its step and the ones the limit allows, never
// after, never under another secret, never when altered; nothing is stored.
import { describe, expect, it } from "vitest";
import { currentNonce, isCurrentNonce } from "../../../src/dpop/nonce";
import { LIMITS } from "../../../src/protocol/constants";

const SECRET = "a".repeat(32);
const STEP = LIMITS.dpopNonceStepSeconds;
const T0 = 1_800_000_000 - (1_800_000_000 % STEP);

describe("DPoP server nonces", () => {
  it("accepts a nonce for its own step and the steps the limit allows, and not after", async () => {
    const nonce = await currentNonce(SECRET, T0);
    expect(await isCurrentNonce(SECRET, nonce, T0)).toBe(true);
    expect(await isCurrentNonce(SECRET, nonce, T0 + (LIMITS.dpopNonceAcceptedSteps - 1) * STEP + STEP - 1)).toBe(true);
    expect(await isCurrentNonce(SECRET, nonce, T0 + LIMITS.dpopNonceAcceptedSteps * STEP)).toBe(false);
  });

  it("accepts a nonce one step ahead (a location whose clock is a moment behind), not two", async () => {
    expect(await isCurrentNonce(SECRET, await currentNonce(SECRET, T0 + STEP), T0)).toBe(true);
    expect(await isCurrentNonce(SECRET, await currentNonce(SECRET, T0 + 2 * STEP), T0)).toBe(false);
  });

  it("refuses a nonce made under another secret", async () => {
    expect(await isCurrentNonce(SECRET, await currentNonce("b".repeat(32), T0), T0)).toBe(false);
  });

  it("refuses a nonce whose step was changed to a current one", async () => {
    const old = await currentNonce(SECRET, T0 - 10 * STEP);
    const [, mac] = old.split(".");
    const forged = `${Math.floor(T0 / STEP).toString(36)}.${mac}`;
    expect(await isCurrentNonce(SECRET, forged, T0)).toBe(false);
  });

  it.each([[""], ["x"], ["abc.def"], ["zzzzzzzzzzzzz.AAAAAAAAAAAAAAAAAAAAAA"]])(
    "refuses the malformed nonce %j",
    async (nonce) => {
      expect(await isCurrentNonce(SECRET, nonce, T0)).toBe(false);
    },
  );

  it("changes every step", async () => {
    expect(await currentNonce(SECRET, T0)).not.toBe(await currentNonce(SECRET, T0 + STEP));
    expect(await currentNonce(SECRET, T0)).toBe(await currentNonce(SECRET, T0 + STEP - 1));
  });
});
