// The resource-server verifier's limits, each with the reason it has the value it has. They live beside the verifier,
// which ships apart from the Worker (the package export) and is the only code that reads them; every limit of the
// Worker itself is in protocol/constants.ts. Pure data: no I/O, no clock, no logic.

export const RESOURCE_SERVER = {
  /**
   * Largest Authorization header looked at. This service's access tokens are well under 2 KiB (an RS256 token with a
   * 4096-bit key and a long scope is about 1.5 KiB); 8 KiB, like an assertion, is room to spare and is refused before
   * any decoding.
   */
  maxAuthorizationLength: 8 * 1024,
  /** Largest decoded access token header: alg, typ and kid are all it needs. */
  maxAccessTokenHeaderBytes: 1024,
  /**
   * Proof jtis the in-memory replay store keeps per verifier (each lives DPOP proof max age + skew, 90 s by default):
   * about 500 DPoP requests a second to one isolate before it is full. When every entry is still live it refuses
   * (503) rather than forget one, so a flood can deny service but never open a replay.
   */
  proofReplayEntries: 50_000,
  /**
   * Online mode (introspection): seconds an answer is reused for the same token. A few seconds spares the issuer a
   * call per request from a busy resource server, and is how late a revocation can be seen; never beyond the token's
   * exp. 0 asks on every request.
   */
  introspectionCacheSeconds: { min: 0, max: 60, default: 5 },
  /** An introspection call slower than this fails the request (503): the resource server never waits on the issuer. */
  introspectionTimeoutMs: 3_000,
  /** Introspection answers kept per verifier, evicting the oldest. */
  introspectionCacheEntries: 10_000,
  /** Lifetime of the client assertion the verifier signs for each introspection call. */
  introspectionAssertionLifetimeSeconds: 60,
  /**
   * Largest introspection answer read: the claims of one of this service's tokens are well under 2 KiB; a bigger body
   * is no answer of this issuer's, and is refused (503) without being held whole.
   */
  maxIntrospectionResponseBytes: 16 * 1024,
} as const;
