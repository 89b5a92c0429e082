// The signature of an assertion against keys that may need fetching (a client's jwks_uri, a federated issuer's set):
// verify with the set at hand, and when no key verifies, ask once for a fresh set, which the source's cooldown may
// refuse. Also the fetch options of a request (its clock, the insecure-URL flag, waitUntil). No storage of its own.
import type { Context } from "hono";
import type { AssertionHeader } from "../assertion/decode";
import { verifyAssertionSignature } from "../assertion/signature";
import type { AppEnv } from "../context";
import { TokenServiceError } from "../protocol/errors";
import type { ClientJwk } from "../protocol/jwk";
import type { RemoteJwksOptions } from "../registry/remote-jwks";

/** A key set that may be refetched: `refreshed` says the set just came from its source, so asking again is moot. */
export type KeySource = (refetch: boolean) => Promise<{ keys: ClientJwk[]; refreshed: boolean }>;

export async function verifyWithKeySource(
  compact: string,
  header: AssertionHeader,
  load: KeySource,
): Promise<ClientJwk> {
  const current = await load(false);
  try {
    return await verifyAssertionSignature(compact, header, current.keys);
  } catch (err) {
    const retryable =
      err instanceof TokenServiceError && (err.reason === "no_matching_key" || err.reason === "signature_invalid");
    if (!retryable || current.refreshed) throw err;
    const next = await load(true);
    if (!next.refreshed) throw err;
    return verifyAssertionSignature(compact, header, next.keys);
  }
}

export function remoteJwksOptions(c: Context<AppEnv>): RemoteJwksOptions {
  let waitUntil: RemoteJwksOptions["waitUntil"];
  try {
    const executionCtx = c.executionCtx;
    waitUntil = (p) => executionCtx.waitUntil(p);
  } catch {
    // No execution context (app.fetch called without one, as unit tests do): the Cache API write is awaited.
  }
  return {
    nowMs: c.get("now") * 1000,
    allowInsecure: c.get("config").allowInsecureJwksUri,
    waitUntil,
    cacheIntegrityKey: c.get("signingKeys").cacheIntegrityKey,
  };
}
