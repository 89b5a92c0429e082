// Turns the Worker's `[vars]` into one typed, validated Config, once per isolate.
// A bad value fails with a message naming the variable. No I/O beyond reading env; no clock.
import { ADMIN_PATH } from "./admin/contract";
import type { Env } from "./env";
import { CONFIG_BOUNDS } from "./protocol/constants";
import { TokenServiceError } from "./protocol/errors";
import { isLoopbackHost } from "./protocol/syntax";

export interface Config {
  /** Issuer identifier: an origin without path or trailing slash; the only accepted assertion audience. */
  issuer: string;
  tokenEndpoint: string;
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
  >,
): Config {
  const issuer = parseIssuer(env.ISSUER);
  const defaultAudience = env.DEFAULT_AUDIENCE ? env.DEFAULT_AUDIENCE : issuer;
  try {
    new URL(defaultAudience);
  } catch {
    throw new TokenServiceError("config_invalid", "DEFAULT_AUDIENCE must be an absolute URI");
  }
  return {
    issuer,
    tokenEndpoint: issuer + TOKEN_PATH,
    jwksUri: issuer + JWKS_PATH,
    adminAudience: issuer + ADMIN_PATH,
    accessTokenTtl: parseSeconds("ACCESS_TOKEN_TTL", env.ACCESS_TOKEN_TTL, CONFIG_BOUNDS.accessTokenTtl),
    clockSkew: parseSeconds("CLOCK_SKEW", env.CLOCK_SKEW, CONFIG_BOUNDS.clockSkew),
    assertionMaxLifetime: parseSeconds(
      "ASSERTION_MAX_LIFETIME",
      env.ASSERTION_MAX_LIFETIME,
      CONFIG_BOUNDS.assertionMaxLifetime,
    ),
    defaultAudience,
    clientCacheTtl: parseSeconds("CLIENT_CACHE_TTL", env.CLIENT_CACHE_TTL, CONFIG_BOUNDS.clientCacheTtl),
    allowInsecureJwksUri: parseFlag("ALLOW_INSECURE_JWKS_URI", env.ALLOW_INSECURE_JWKS_URI),
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
