// Stateless DPoP server nonces (RFC 9449 section 8): a nonce is a time step and an HMAC of it, under a key derived
// (HKDF-SHA256) from the DPOP_NONCE_SECRET Worker secret. Checking one needs no storage read or write; a nonce is
// accepted for LIMITS.dpopNonceAcceptedSteps steps. The check the token endpoint and the resource-server verifier
// share. Crypto only; the clock is an argument; nothing is logged.
import { base64url } from "jose";
import { BoundedCache } from "../lib/bounded-cache";
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";

/** Separates these keys from anything else ever derived from the same secret. */
const KEY_INFO = new TextEncoder().encode("edge-token-service dpop-nonce v1");
const MAC_BYTES = 16;

const keys = new BoundedCache<string, Promise<CryptoKey>>(4);

function macKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, [
        "deriveKey",
      ]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: KEY_INFO },
        material,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
    keys.set(secret, key);
  }
  return key;
}

function stepAt(nowSeconds: number): number {
  return Math.floor(nowSeconds / LIMITS.dpopNonceStepSeconds);
}

async function macOf(secret: string, step: number): Promise<Uint8Array> {
  const mac = await crypto.subtle.sign("HMAC", await macKey(secret), new TextEncoder().encode(`step:${step}`));
  return new Uint8Array(mac).slice(0, MAC_BYTES);
}

/** The nonce of the current step: what a DPoP-Nonce header carries. */
export async function currentNonce(secret: string, nowSeconds: number): Promise<string> {
  const step = stepAt(nowSeconds);
  return `${step.toString(36)}.${base64url.encode(await macOf(secret, step))}`;
}

/** Constant-time comparison of two equal-length byte strings. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * True for a nonce this service issued within the accepted steps (and for one step ahead, so a location whose clock
 * is a moment behind the one that issued it still accepts it).
 */
export async function isCurrentNonce(secret: string, nonce: string, nowSeconds: number): Promise<boolean> {
  const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
  if (!match) return false;
  const step = Number.parseInt(match[1]!, 36);
  const now = stepAt(nowSeconds);
  if (step > now + 1 || step <= now - LIMITS.dpopNonceAcceptedSteps) return false;
  let mac: Uint8Array;
  try {
    mac = base64url.decode(match[2]!);
  } catch {
    return false;
  }
  return sameBytes(mac, await macOf(secret, step));
}

/**
 * RFC 9449 sections 8 and 9: a proof must carry a current nonce of `secret`, else dpop_nonce_invalid (use_dpop_nonce),
 * with a fresh nonce in a DPoP-Nonce header for the client's retry.
 */
export async function requireCurrentNonce(
  secret: string,
  nonce: string | undefined,
  nowSeconds: number,
): Promise<void> {
  if (nonce !== undefined && (await isCurrentNonce(secret, nonce, nowSeconds))) return;
  throw new TokenServiceError("dpop_nonce_invalid", nonce === undefined ? "no nonce" : "stale or forged", {
    headers: { "DPoP-Nonce": await currentNonce(secret, nowSeconds) },
  });
}
