// The verifier's options, checked once when it is created (createVerifier) into a typed configuration: a bad option
// throws an Error naming it, so a misconfigured resource server fails at start, not on a request. Pure: no I/O, no
// clock; the key source is kept as given, never called here.
import type { JSONWebKeySet } from "jose";
import {
  ASSERTION_ALGORITHMS,
  type AssertionAlgorithm,
  CONFIG_BOUNDS,
  LIMITS,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from "../protocol/constants";
import { isLoopbackHost } from "../protocol/syntax";
import type { ProofReplayStore } from "./proof-replay";

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
  now: () => number;
}

function fail(message: string): never {
  throw new Error(`createVerifier: ${message}`);
}

function parseIssuer(issuer: unknown): string {
  if (typeof issuer !== "string" || issuer === "") fail("issuer is required");
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    fail("issuer is not a URL");
  }
  if (url.origin !== issuer) fail("issuer must be an origin such as https://auth.example.com (no path or slash)");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    fail("issuer must use https (http is allowed for localhost only)");
  }
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
    now: now ?? Date.now,
  };
}
