// Turns the Worker's `[vars]` into one typed, validated Config, once per isolate.
// A bad value fails with a message naming the variable. No I/O beyond reading env; no clock.
import { ADMIN_PATH } from "./admin/contract";
import type { Env } from "./env";
import {
  ASSERTION_ALGORITHMS,
  type AssertionAlgorithm,
  CONFIG_BOUNDS,
  FAPI2_ALGORITHMS,
  FAPI2_CLOCK_SKEW,
  INTROSPECTION_PATH,
  LIMITS,
  PROFILES,
  type Profile,
  REVOCATION_PATH,
} from "./protocol/constants";
import { TokenServiceError } from "./protocol/errors";
import { isLoopbackHost } from "./protocol/syntax";

export interface Config {
  /** Issuer identifier: an origin without path or trailing slash; the only accepted assertion audience (RFC 10070). */
  issuer: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  introspectionEndpoint: string;
  jwksUri: string;
  /** Audience of access tokens accepted by the admin API (`<issuer>/admin`). */
  adminAudience: string;
  accessTokenTtl: number;
  clockSkew: number;
  assertionMaxLifetime: number;
  /** `aud` of access tokens when neither the request nor the client record names one. */
  defaultAudience: string;
  /** Seconds an isolate reuses a validated client record; 0 reads KV on every request. */
  clientCacheTtl: number;
  /** Whether jwks_uri may be plain http on a loopback host (local testing only). */
  allowInsecureJwksUri: boolean;
  /** `default` (RFC 7523, RFC 10070, RFC 9449) or `fapi2` (FAPI 2.0 Security Profile). */
  profile: Profile;
  /** Algorithms accepted for client assertions and DPoP proofs: all asymmetric ones, or FAPI 2.0's three. */
  algorithms: readonly AssertionAlgorithm[];
  dpop: {
    /** Seconds a proof's iat may lie in the past (plus the clock skew). */
    proofMaxAge: number;
    /** Whether proofs must carry a server nonce (RFC 9449 section 8). */
    nonceRequired: boolean;
    /** The secret nonces are derived from; set whenever nonceRequired is. */
    nonceSecret: string | undefined;
    /** Whether every token must be DPoP-bound (PROFILE=fapi2), whatever the client's record says. */
    requiredForAll: boolean;
  };
}

export const TOKEN_PATH = "/token";
export const JWKS_PATH = "/.well-known/jwks.json";

/** Checks ISSUER: an https origin (http only for loopback hosts), exactly as clients will write it. */
export function parseIssuer(raw: string | undefined): string {
  if (!raw) throw new TokenServiceError("config_invalid", "ISSUER is not set");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TokenServiceError("config_invalid", "ISSUER is not a URL");
  }
  if (url.origin !== raw) {
    throw new TokenServiceError(
      "config_invalid",
      "ISSUER must be an origin such as https://auth.example.com (no path, query, fragment or trailing slash)",
    );
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw new TokenServiceError("config_invalid", "ISSUER must use https (http is allowed for localhost only)");
  }
  return raw;
}

function parseSeconds(name: string, raw: string | undefined, bounds: { min: number; max: number; default: number }) {
  if (raw === undefined || raw === "") return bounds.default;
  if (!/^[0-9]+$/.test(raw)) throw new TokenServiceError("config_invalid", `${name} must be a whole number of seconds`);
  const value = Number(raw);
  if (value < bounds.min || value > bounds.max) {
    throw new TokenServiceError("config_invalid", `${name} must be between ${bounds.min} and ${bounds.max} seconds`);
  }
  return value;
}

function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined || raw === "") return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new TokenServiceError("config_invalid", `${name} must be one of ${choices.map((c) => `"${c}"`).join(", ")}`);
  }
  return raw as T;
}

function parseFlag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new TokenServiceError("config_invalid", `${name} must be "true" or "false"`);
}

/** Validates the variables into a Config. Throws TokenServiceError("config_invalid") naming the bad variable. */
export function parseConfig(
  env: Pick<
    Env,
    | "ISSUER"
    | "ACCESS_TOKEN_TTL"
    | "CLOCK_SKEW"
    | "ASSERTION_MAX_LIFETIME"
    | "DEFAULT_AUDIENCE"
    | "CLIENT_CACHE_TTL"
    | "ALLOW_INSECURE_JWKS_URI"
    | "PROFILE"
    | "DPOP_PROOF_MAX_AGE"
    | "DPOP_NONCE"
    | "DPOP_NONCE_SECRET"
  >,
): Config {
  const issuer = parseIssuer(env.ISSUER);
  const defaultAudience = env.DEFAULT_AUDIENCE ? env.DEFAULT_AUDIENCE : issuer;
  try {
    new URL(defaultAudience);
  } catch {
    throw new TokenServiceError("config_invalid", "DEFAULT_AUDIENCE must be an absolute URI");
  }
  const profile = parseChoice("PROFILE", env.PROFILE, PROFILES, "default");
  const clockSkew = parseSeconds("CLOCK_SKEW", env.CLOCK_SKEW, CONFIG_BOUNDS.clockSkew);
  if (profile === "fapi2" && (clockSkew < FAPI2_CLOCK_SKEW.min || clockSkew > FAPI2_CLOCK_SKEW.max)) {
    throw new TokenServiceError(
      "config_invalid",
      `CLOCK_SKEW must be between ${FAPI2_CLOCK_SKEW.min} and ${FAPI2_CLOCK_SKEW.max} seconds with PROFILE=fapi2 (FAPI 2.0 accepts iat up to 10 s ahead and refuses more than 60 s)`,
    );
  }
  const nonceRequired = parseChoice("DPOP_NONCE", env.DPOP_NONCE, ["off", "required"] as const, "off") === "required";
  const nonceSecret = env.DPOP_NONCE_SECRET ? env.DPOP_NONCE_SECRET : undefined;
  if (nonceRequired && nonceSecret === undefined) {
    throw new TokenServiceError("config_invalid", 'DPOP_NONCE_SECRET is not set (DPOP_NONCE is "required")');
  }
  if (nonceSecret !== undefined && nonceSecret.length < LIMITS.minDpopNonceSecretLength) {
    throw new TokenServiceError(
      "config_invalid",
      `DPOP_NONCE_SECRET must be at least ${LIMITS.minDpopNonceSecretLength} characters of a random string`,
    );
  }
  return {
    issuer,
    tokenEndpoint: issuer + TOKEN_PATH,
    revocationEndpoint: issuer + REVOCATION_PATH,
    introspectionEndpoint: issuer + INTROSPECTION_PATH,
    jwksUri: issuer + JWKS_PATH,
    adminAudience: issuer + ADMIN_PATH,
    accessTokenTtl: parseSeconds("ACCESS_TOKEN_TTL", env.ACCESS_TOKEN_TTL, CONFIG_BOUNDS.accessTokenTtl),
    clockSkew,
    assertionMaxLifetime: parseSeconds(
      "ASSERTION_MAX_LIFETIME",
      env.ASSERTION_MAX_LIFETIME,
      CONFIG_BOUNDS.assertionMaxLifetime,
    ),
    defaultAudience,
    clientCacheTtl: parseSeconds("CLIENT_CACHE_TTL", env.CLIENT_CACHE_TTL, CONFIG_BOUNDS.clientCacheTtl),
    allowInsecureJwksUri: parseFlag("ALLOW_INSECURE_JWKS_URI", env.ALLOW_INSECURE_JWKS_URI),
    profile,
    algorithms: profile === "fapi2" ? FAPI2_ALGORITHMS : ASSERTION_ALGORITHMS,
    dpop: {
      proofMaxAge: parseSeconds("DPOP_PROOF_MAX_AGE", env.DPOP_PROOF_MAX_AGE, CONFIG_BOUNDS.dpopProofMaxAge),
      nonceRequired,
      nonceSecret,
      requiredForAll: profile === "fapi2",
    },
  };
}

const cache = new WeakMap<object, Config>();

/** parseConfig, memoised per env object (one per isolate in production). */
export function configFor(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env);
    cache.set(env, config);
  }
  return config;
}
