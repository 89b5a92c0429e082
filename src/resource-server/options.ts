// The verifier's options, checked once when it is created (createVerifier) into a typed configuration: a bad option
// throws an Error naming it, so a misconfigured resource server fails at start, not on a request. Pure: no I/O, no
// clock, no crypto; the key source and the fetch are kept as given, never called here, and no message ever quotes
// the introspection private key.
import type { JSONWebKeySet, JWK } from "jose";
import {
  ASSERTION_ALGORITHMS,
  type AssertionAlgorithm,
  CONFIG_BOUNDS,
  INTROSPECTION_PATH,
  LIMITS,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from "../protocol/constants";
import {
  type ClientJwk,
  isAssertionAlgorithm,
  keyFitsAlgorithm,
  sameAlgorithm,
  validatePublicJwk,
} from "../protocol/jwk";
import { isLoopbackHost, isValidClientId } from "../protocol/syntax";
import type { IntrospectionConfig, IntrospectionFetch, IntrospectionKey } from "./introspection";
import { RESOURCE_SERVER } from "./limits";
import type { ProofReplayStore } from "./proof-replay";

/** Online mode: the resource server asks the issuer's introspection endpoint (RFC 7662) about every token. */
export interface IntrospectionOptions {
  /** The resource server's own client_id at the issuer; its record must allow introspection. */
  clientId: string;
  /** Its private key: a private JWK (with `d`, and `alg` here or in `alg`), or a CryptoKey with `alg`. */
  privateKey: JWK | CryptoKey;
  /** The key's JWS algorithm, when the JWK has no `alg` or the key is a CryptoKey. */
  alg?: string;
  /** The `kid` of the registered public key. Default: the JWK's `kid`, if any. */
  kid?: string;
  /** Default `<issuer>/introspect`. https (http only for a loopback host). */
  endpoint?: string;
  /** Seconds an answer about a token is reused, never past the token's exp. 0 to 60, default 5; 0 asks every time. */
  cacheSeconds?: number;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface VerifierOptions {
  /** The authorization server's issuer identifier: an https origin (http for localhost only), exactly as in `iss`. */
  issuer: string;
  /** This resource server's audience, exactly as the token's `aud` names it. */
  audience: string;
  /**
   * The issuer's public keys: a JWK Set, or a function returning one (called for every token; return a cached set).
   * Default: `<issuer>/.well-known/jwks.json`, fetched and cached by jose.
   */
  jwks?: JSONWebKeySet | (() => Promise<JSONWebKeySet>);
  /** Access token algorithms accepted. Default: every algorithm the issuer may sign with (never none or HMAC). */
  algorithms?: readonly string[];
  /** DPoP proof algorithms accepted, announced in the DPoP challenge's `algs`. Default: every asymmetric one. */
  dpopAlgorithms?: readonly string[];
  /** Seconds of clock difference tolerated on exp, iat, nbf and proof iat. Default 30. */
  clockSkew?: number;
  /** How old a DPoP proof's iat may be, in seconds. Default 60. */
  dpopProofMaxAge?: number;
  /** Where proof jtis are spent. Default: a MemoryProofReplayStore of this verifier (per isolate). */
  replay?: ProofReplayStore;
  /**
   * Turns DPoP server nonces on (RFC 9449 section 9): every proof must carry a current nonce made from this secret
   * (at least 32 characters), checked without storage. Default: nonces are not required.
   */
  dpopNonceSecret?: string;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Turns online mode on: every token that passes the offline checks is also introspected. Default: offline. */
  introspection?: IntrospectionOptions;
}

export interface VerifierConfig {
  issuer: string;
  audience: string;
  jwksUrl: URL;
  jwks: VerifierOptions["jwks"];
  algorithms: readonly SigningAlgorithm[];
  dpopAlgorithms: readonly AssertionAlgorithm[];
  clockSkew: number;
  dpopProofMaxAge: number;
  replay: ProofReplayStore | undefined;
  dpopNonceSecret: string | undefined;
  introspection: IntrospectionConfig | undefined;
  now: () => number;
}

function fail(message: string): never {
  throw new Error(`createVerifier: ${message}`);
}

/** A URL the verifier talks to or compares with: https, or http on a loopback host; no credentials, no fragment. */
function parseUrl(name: string, value: unknown): URL {
  if (typeof value !== "string" || value === "" || value.length > LIMITS.maxUriLength) fail(`${name} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${name} is not a URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    fail(`${name} must use https (http is allowed for localhost only)`);
  }
  if (url.username || url.password || url.hash) fail(`${name} must have no credentials and no fragment`);
  return url;
}

function parseIssuer(issuer: unknown): string {
  const url = parseUrl("issuer", issuer);
  if (url.origin !== issuer) fail("issuer must be an origin such as https://auth.example.com (no path or slash)");
  return issuer;
}

function parseList<T extends string>(name: string, value: unknown, allowed: readonly T[]): readonly T[] {
  if (value === undefined) return allowed;
  if (!Array.isArray(value) || value.length === 0) fail(`${name} must be a non-empty array`);
  for (const alg of value) {
    if (!(allowed as readonly unknown[]).includes(alg)) {
      fail(`${name}: ${String(alg).slice(0, 20)} is not one of ${allowed.join(", ")}`);
    }
  }
  return [...new Set(value as T[])];
}

function parseSeconds(name: string, value: unknown, bounds: { min: number; max: number; default: number }): number {
  if (value === undefined) return bounds.default;
  if (typeof value !== "number" || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    fail(`${name} must be a whole number of seconds between ${bounds.min} and ${bounds.max}`);
  }
  return value;
}

function parseNonceSecret(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length < LIMITS.minDpopNonceSecretLength) {
    fail(`dpopNonceSecret must be a string of at least ${LIMITS.minDpopNonceSecretLength} characters`);
  }
  return value;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey === "function" && value instanceof CryptoKey;
}

/** The key and its algorithm. Messages name the fault, never a member's value. */
function parseKey(options: IntrospectionOptions): { key: IntrospectionKey; alg: AssertionAlgorithm } {
  const name = "introspection.privateKey";
  const { privateKey, alg } = options;
  if (alg !== undefined && !isAssertionAlgorithm(alg)) {
    fail(`introspection.alg: ${String(alg).slice(0, 20)} is not one of ${ASSERTION_ALGORITHMS.join(", ")}`);
  }
  if (isCryptoKey(privateKey)) {
    if (privateKey.type !== "private" || !privateKey.usages.includes("sign")) fail(`${name} must sign`);
    if (alg === undefined) fail("introspection.alg is required with a CryptoKey");
    return { key: { kind: "crypto", key: privateKey }, alg };
  }
  if (typeof privateKey !== "object" || privateKey === null || Array.isArray(privateKey)) {
    fail(`${name} must be a private JWK or a CryptoKey`);
  }
  const jwk = privateKey as JWK;
  if (typeof jwk.d !== "string" || jwk.d === "") fail(`${name} has no "d": give the private key, not the public one`);
  const jwkAlg = jwk.alg;
  if (jwkAlg !== undefined && !isAssertionAlgorithm(jwkAlg)) {
    fail(`${name}: its alg is not one of ${ASSERTION_ALGORITHMS.join(", ")}`);
  }
  if (alg !== undefined && jwkAlg !== undefined && !sameAlgorithm(alg, jwkAlg)) {
    fail(`introspection.alg and the alg of introspection.privateKey differ`);
  }
  const chosen = alg ?? jwkAlg;
  if (chosen === undefined) fail(`${name} needs an alg (in the JWK, or as introspection.alg)`);
  const { kty, crv, n, e, x, y, d, p, q, dp, dq, qi } = jwk;
  let publicPart: ClientJwk;
  try {
    publicPart = validatePublicJwk({ kty, crv, n, e, x, y });
  } catch (err) {
    fail(`${name}: ${(err as Error).message}`);
  }
  if (!keyFitsAlgorithm(publicPart, chosen)) fail(`${name} (kty ${kty}) cannot sign ${chosen}`);
  const members = { kty, crv, n, e, x, y, d, p, q, dp, dq, qi };
  const copy = Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined)) as JWK;
  return { key: { kind: "jwk", jwk: copy }, alg: chosen };
}

function parseIntrospection(options: unknown, issuer: string): IntrospectionConfig | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) fail("introspection must be an object");
  const online = options as IntrospectionOptions;
  if (!isValidClientId(online.clientId)) fail("introspection.clientId must be a client_id");
  const { key, alg } = parseKey(online);
  const kid = online.kid ?? (key.kind === "jwk" ? (online.privateKey as JWK).kid : undefined);
  if (kid !== undefined && (typeof kid !== "string" || kid === "" || kid.length > LIMITS.maxKidLength)) {
    fail(`introspection.kid must be a non-empty string of at most ${LIMITS.maxKidLength} characters`);
  }
  if (online.fetch !== undefined && typeof online.fetch !== "function") fail("introspection.fetch must be a function");
  const given = online.fetch as IntrospectionFetch | undefined;
  const endpoint = online.endpoint === undefined ? new URL(INTROSPECTION_PATH, issuer) : undefined;
  return {
    clientId: online.clientId,
    key,
    alg,
    kid,
    // The token goes there: https only (http for localhost), like the issuer.
    endpoint: (endpoint ?? parseUrl("introspection.endpoint", online.endpoint)).href,
    audience: issuer,
    cacheSeconds: parseSeconds(
      "introspection.cacheSeconds",
      online.cacheSeconds,
      RESOURCE_SERVER.introspectionCacheSeconds,
    ),
    // Called as a plain function: workerd refuses a fetch called as a method of another object.
    fetch: given ?? ((url, init) => fetch(url, init)),
  };
}

export function parseVerifierOptions(options: VerifierOptions): VerifierConfig {
  if (typeof options !== "object" || options === null) fail("options are required");
  const issuer = parseIssuer(options.issuer);
  const { audience, jwks, replay, now } = options;
  if (typeof audience !== "string" || audience === "" || audience.length > LIMITS.maxUriLength) {
    fail("audience must be a non-empty string");
  }
  const jwksIsSet = typeof jwks === "object" && jwks !== null && Array.isArray((jwks as JSONWebKeySet).keys);
  if (jwks !== undefined && typeof jwks !== "function" && !jwksIsSet) {
    fail('jwks must be a JWK Set ({"keys": [...]}) or a function returning one');
  }
  if (replay !== undefined && typeof replay?.spend !== "function") fail("replay must have a spend(jti, until) method");
  if (now !== undefined && typeof now !== "function") fail("now must be a function returning milliseconds");
  return {
    issuer,
    audience,
    // From configuration, never from a token: jku and x5u are refused, not followed.
    jwksUrl: new URL("/.well-known/jwks.json", issuer),
    jwks,
    algorithms: parseList("algorithms", options.algorithms, SIGNING_ALGORITHMS),
    dpopAlgorithms: parseList("dpopAlgorithms", options.dpopAlgorithms, ASSERTION_ALGORITHMS),
    clockSkew: parseSeconds("clockSkew", options.clockSkew, CONFIG_BOUNDS.clockSkew),
    dpopProofMaxAge: parseSeconds("dpopProofMaxAge", options.dpopProofMaxAge, CONFIG_BOUNDS.dpopProofMaxAge),
    replay,
    dpopNonceSecret: parseNonceSecret(options.dpopNonceSecret),
    introspection: parseIntrospection(options.introspection, issuer),
    now: now ?? Date.now,
  };
}
