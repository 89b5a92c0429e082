// Every fixed limit and protocol constant of the service, each with the reason it has the value it has.
// Pure data: no I/O, no clock, no logic. Operator-tunable values live in config.ts and are bounded here.

/** RFC 7523 section 2.2: the client_assertion_type for JWT client authentication. */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** The only grant this endpoint serves: machine clients acting on their own behalf (RFC 6749 section 4.4). */
export const CLIENT_CREDENTIALS_GRANT = "client_credentials";

/**
 * Asymmetric JWS algorithms accepted for client assertions. `none` and the HMAC family are absent on purpose:
 * a registry holds only public keys, and an HMAC keyed with a public key is a classic forgery.
 * `Ed25519` is the fully-specified name (RFC 9864) of what `EdDSA` means here.
 */
// biome-ignore format: one line per algorithm family reads better than eleven lines.
export const ASSERTION_ALGORITHMS = [
  "RS256", "RS384", "RS512",
  "PS256", "PS384", "PS512",
  "ES256", "ES384", "ES512",
  "EdDSA", "Ed25519",
] as const;
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

/**
 * The operator profiles (`[vars] PROFILE`). `default`: RFC 7523 and RFC 10070 as written. `fapi2`: the FAPI 2.0
 * Security Profile's rules for a token endpoint: sender-constrained tokens only, the assertion `aud` the issuer as
 * a string, and the algorithms below.
 */
export const PROFILES = ["default", "fapi2"] as const;
export type Profile = (typeof PROFILES)[number];

/** FAPI 2.0 Security Profile section 5.4.1: PS256, ES256 and EdDSA (over Ed25519) only, for assertions and proofs. */
export const FAPI2_ALGORITHMS = ["PS256", "ES256", "EdDSA", "Ed25519"] as const satisfies readonly AssertionAlgorithm[];

/**
 * FAPI 2.0 Security Profile section 5.3.2.1: accept `iat` and `nbf` up to 10 s in the future, refuse more than 60 s.
 * Under PROFILE=fapi2, CLOCK_SKEW (the future tolerance) must lie in this range.
 */
export const FAPI2_CLOCK_SKEW = { min: 10, max: 60 } as const;

/** RFC 9449 section 4.2: the `typ` of a DPoP proof; nothing else is one. */
export const DPOP_PROOF_TYPE = "dpop+jwt";

/** RFC 9449 section 7.1: the authorization scheme of a DPoP-bound access token, and its `token_type`. */
export const DPOP_TOKEN_TYPE = "DPoP";

/** Algorithms the service may sign access tokens with (a signing key's `alg` must be one of them). */
export const SIGNING_ALGORITHMS = ["ES256", "ES384", "PS256", "RS256", "EdDSA"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/**
 * Accepted explicit `typ` values of a client assertion (compared case-insensitively, with or without the
 * `application/` prefix, as RFC 7515 section 4.1.9 allows). An absent `typ` is accepted. Any other explicit
 * type (`at+jwt`, `dpop+jwt`, ...) is a token minted for something else and is refused (RFC 8725 section 3.11).
 */
export const ASSERTION_TYPES = ["jwt", "client-authentication+jwt"] as const;

/** RFC 9068 section 2.1: the `typ` header of JWT access tokens. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/**
 * JOSE header parameters that carry or point at key material. Verification never uses them, and an assertion
 * that carries them is refused outright, so a client cannot even appear to choose its own key.
 */
export const FORBIDDEN_ASSERTION_HEADERS = ["jwk", "jku", "x5u", "x5c"] as const;

/**
 * JOSE header members that name a key by reference or by certificate (RFC 7515 section 4.1): a DPoP proof, which
 * carries its key in `jwk`, and an access token, whose keys are the issuer's, are refused when they hold any.
 */
export const HEADER_KEY_REFERENCES = ["jku", "x5u", "x5c", "x5t", "x5t#S256"] as const;

export const LIMITS = {
  /** Largest token request body in bytes. A form with one assertion is well under 8 KiB; more is abuse. */
  maxRequestBodyBytes: 16 * 1024,
  /**
   * A request body streamed past that limit is still read, and dropped, up to this many bytes, so `wrangler dev` (and
   * any proxy that dislikes a cancelled upload) delivers the 413; a larger one is cancelled.
   */
  maxDrainedBodyBytes: 1024 * 1024,
  /** Most form fields in a token request. The grammar needs at most seven, plus a few `resource` values. */
  maxFormFields: 32,
  /** Most `resource` parameters (RFC 8707) in one request. */
  maxResourceParameters: 8,
  /** Largest client assertion in characters. An RS512 assertion with a 4096-bit key is about 1.2 KiB. */
  maxAssertionLength: 8 * 1024,
  /** Largest decoded assertion header in bytes. Headers we accept carry alg, typ and kid only. */
  maxAssertionHeaderBytes: 1024,
  /** Largest `jti` in characters. UUIDs are 36; anything near this cap is not an identifier. */
  maxJtiLength: 256,
  /** Longest URI accepted anywhere (resource indicators, audiences, jwks_uri): far above any real one, bounded for logs. */
  maxUriLength: 2048,
  /** Largest client_id in characters, so log lines and Durable Object names stay bounded. */
  maxClientIdLength: 256,
  /** Largest `kid` in characters. RFC 7638 thumbprints are 43. */
  maxKidLength: 256,
  /** Most keys tried for one assertion without a `kid`: bounds signature work an attacker can cause. */
  maxKeysTriedPerRequest: 4,
  /** Most keys in one client's JWK Set: room for rotation overlap, not a key dump. */
  maxKeysPerClient: 20,
  /** Most retired kids a record keeps: years of monthly rotations; the oldest can be restored or dropped by hand. */
  maxRetiredKids: 100,
  /** Largest requested `scope` string in characters. */
  maxScopeLength: 1024,
  /** Smallest RSA modulus accepted anywhere (NIST SP 800-131A; RFC 7518 section 3.3 requires 2048). */
  minRsaModulusBits: 2048,
  /** Largest RSA modulus accepted: above this, verification cost becomes a denial-of-service lever. */
  maxRsaModulusBits: 8192,
  /**
   * Longest life of an admin access token, whatever ACCESS_TOKEN_TTL is: the admin API also refuses one as soon as its
   * key is retired or its operator disabled, and a short life bounds what a copy of it is worth.
   */
  maxAdminTokenTtl: 300,
  /**
   * Least time between two asks of a client's authority for a newer record when an assertion names a key its cached
   * record lacks: a key just added works at once, and a stranger's garbage costs one Durable Object call per isolate
   * per client per this many seconds.
   */
  authorityRefreshCooldownSeconds: 30,
  /**
   * Workers KV may serve a value about this old in another location, and for about this long after a write in the
   * same one. A client's authority adopts a record written to KV by the bootstrap path after the client was removed
   * only once this long has passed since the removal, so a stale read of the record from before the removal can never
   * bring a removed client back.
   */
  kvPropagationSeconds: 60,
  /** Most clients one page of `GET /admin/clients` lists (KV lists at most 1,000 keys a call). */
  maxAdminListPage: 100,
  /** Largest admin request body: a client record, with room for a JSON merge patch's nulls. */
  maxAdminBodyBytes: 64 * 1024,
  /** Largest stored client record in bytes (KV value). */
  maxClientRecordBytes: 64 * 1024,
  /** Longest client `name` label: a human-readable label, not a document. */
  maxClientNameLength: 200,
  /** Largest `rate_limit.requests`: a million per window is beyond any one client's need for tokens. */
  maxRateLimitRequests: 1_000_000,
  /** Longest `rate_limit.per_seconds` window: a day (a budget may span more than one token lifetime). */
  maxRateLimitWindowSeconds: 86_400,
  /** Most entries of a published JWK Set that are even looked at; keys beyond these are ignored. */
  maxPublishedKeysScanned: 100,
  /** Longest error detail kept for a log line, so a failing dependency's message cannot flood the log. */
  maxLogDetailLength: 200,
  /** Longest request path written to an admin audit line. */
  maxLoggedPathLength: 600,
  /**
   * Largest DPoP header: a proof carries its public key in the header, and an RSA-8192 JWK is about 1.4 KB encoded;
   * 8 KiB, like an assertion, is room to spare and small enough to refuse before any JSON is parsed.
   */
  maxDpopProofLength: 8 * 1024,
  /** Largest decoded DPoP proof header (the JWK in it included). */
  maxDpopHeaderBytes: 4 * 1024,
  /** Longest proof `jti`, as for assertions: a UUID or 32 random bytes fit many times over. */
  maxDpopJtiLength: 256,
  /** Longest `htu` looked at: a URL, not a document. */
  maxDpopHtuLength: 2_048,
  /**
   * Proof keys imported and kept per isolate: a client library keeps its proof key for many requests, and importing
   * one costs more than verifying with it. Only authenticated clients' proofs reach the import, and this cache is apart
   * from the client keys', so proof keys never evict those.
   */
  dpopKeyCacheEntries: 1_000,
  /**
   * A server nonce (RFC 9449 section 8) is a MAC of a time step of this many seconds: a client that fetched one uses it
   * for the requests of the next minute or so, and nothing is stored to check it.
   */
  dpopNonceStepSeconds: 60,
  /** Nonces of this many steps are accepted (the current one and the ones before it): a nonce lives 2 to 3 minutes. */
  dpopNonceAcceptedSteps: 3,
  /** Shortest DPOP_NONCE_SECRET: 32 characters of a random base64url string are 192 bits. */
  minDpopNonceSecretLength: 32,
  /** Longest `token` revocation or introspection decodes: ours are under 2 KiB; a longer one is no token of ours. */
  maxPresentedTokenLength: 8 * 1024,
} as const;

/** Bounds for operator configuration (config.ts checks each `[vars]` value against these). */
export const CONFIG_BOUNDS = {
  /**
   * Access tokens live at least a minute (shorter only multiplies token traffic) and at most an hour: a resource server
   * that validates offline cannot see a revocation, so the lifetime is the exposure of a leaked token.
   */
  accessTokenTtl: { min: 60, max: 3_600, default: 600 },
  /** Clock skew tolerated on assertion times: zero breaks real fleets, more than five minutes invites replay. */
  clockSkew: { min: 0, max: 300, default: 30 },
  /** Assertion lifetime cap (RFC 7523 section 3 lets the server bound it): short keeps the replay store small. */
  assertionMaxLifetime: { min: 10, max: 3_600, default: 300 },
  /**
   * Seconds an isolate reuses a client record it read and validated (CLIENT_CACHE_TTL). A few seconds lets a busy
   * client skip the KV read and record validation on most requests; it never delays a change, which the client's
   * authority enforces on the next request (docs/registry.md). 0 turns the cache off; more than a minute outlasts
   * KV's own cacheTtl.
   */
  clientCacheTtl: { min: 0, max: 60, default: 5 },
  /**
   * How old a DPoP proof's `iat` may be (DPOP_PROOF_MAX_AGE; RFC 9449 section 11.1 leaves the window to the server). A
   * proof is made for one request just before it is sent: a minute allows for slow links, and bounds how long its
   * `jti` is kept.
   */
  dpopProofMaxAge: { min: 5, max: 300, default: 60 },
} as const;

/** Where revocation (RFC 7009) and introspection (RFC 7662) are served, under the issuer. */
export const REVOCATION_PATH = "/revoke";
export const INTROSPECTION_PATH = "/introspect";

/** Cache-Control of metadata and JWKS: short enough that a signing-key rotation is seen within minutes. */
export const DISCOVERY_CACHE_CONTROL = "public, max-age=300";

/** Most client records cached per isolate: the active clients of a large fleet, while memory stays bounded. */
export const CLIENT_CACHE_ENTRIES = 1_000;

/**
 * Most unknown client ids remembered per isolate (for CLIENT_CACHE_TTL, like records): a client that keeps calling
 * with an id nobody registered costs one KV read per TTL, not one per request. Apart from the records, so a flood of
 * made-up ids never pushes out a real client's record.
 */
export const UNKNOWN_CLIENT_CACHE_ENTRIES = 1_000;

/** Size of the per-isolate cache of imported client public keys. Imports are costly; memory is not unbounded. */
export const KEY_CACHE_ENTRIES = 1_000;

/** Fetching client keys from a `jwks_uri` (src/registry/remote-jwks.ts). */
export const JWKS_URI = {
  /** A key server slower than this (redirect and body included) is down as far as a token request is concerned. */
  fetchTimeoutMs: 3_000,
  /**
   * A shared fetch still unsettled this long after its own timeout is presumed dead (in workerd, cancelling the
   * request that started it can cancel its I/O): later requests stop waiting for it, and one starts a new fetch.
   * Room for the Cache API write that follows the body; far below any client's own token request timeout.
   */
  inflightGraceMs: 500,
  /** Largest JWK Set accepted: 20 RSA-8192 keys fit; anything bigger is not a client's key set. */
  maxBytes: 64 * 1024,
  /** Cache-Control max-age is honoured but never below this, so a key server saying no-cache cannot set our fetch rate. */
  minFreshSeconds: 60,
  /** ...and never above this, so a rotation published by the client is picked up within an hour at worst. */
  maxFreshSeconds: 3_600,
  /** Freshness when the key server sends no usable max-age. */
  defaultFreshSeconds: 300,
  /**
   * After a fetch, an unknown `kid` triggers no new fetch for this long, nor does any request after a failed fetch:
   * an attacker, who needs no valid signature to cause a fetch (keys come before the signature check), cannot force
   * a fetch per request.
   */
  unknownKidCooldownSeconds: 30,
  /** When refreshing fails, the last good set keeps being used for this long after it was fetched. */
  maxStaleSeconds: 6 * 3_600,
  /** Most jwks_uri sets cached per isolate. */
  cacheEntries: 1_000,
} as const;
