// OAuth syntax rules every part of the service shares: client_id and scope-token grammar (RFC 6749), resource
// indicators (RFC 8707), the URLs the service accepts for an issuer or a jwks_uri, which hosts count as loopback, and
// the JOSE pieces every token check reads (NumericDate, the `typ` comparison).
// Imported by the assertion checks, the grant, the registry, the configuration and the CLI. Pure: no I/O, no clock.
import { LIMITS } from "./constants";

/** RFC 6749 appendix A.1: client_id is VSCHAR (printable ASCII); we also bound its length. */
const CLIENT_ID = /^[\x20-\x7e]+$/;
/** RFC 6749 section 3.3 scope-token: NQCHAR without space. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Host names that only ever reach this machine (URL.hostname spelling: IPv6 in brackets). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isValidClientId(value: unknown): value is string {
  return (
    typeof value === "string" && value.length > 0 && value.length <= LIMITS.maxClientIdLength && CLIENT_ID.test(value)
  );
}

export function isValidScopeToken(value: unknown): value is string {
  return typeof value === "string" && value.length <= LIMITS.maxScopeLength && SCOPE_TOKEN.test(value);
}

/** True for a URL host name that can only reach this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/** An absolute URI without fragment, as RFC 8707 requires of a resource indicator. */
export function isResourceIndicator(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > LIMITS.maxUriLength) return false;
  if (value.includes("#")) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A jwks_uri the service may fetch: https, or http on a loopback host (used only when the Worker's
 * ALLOW_INSECURE_JWKS_URI is "true", for local testing); no credentials, no fragment.
 */
export function isJwksUri(value: unknown): value is string {
  if (typeof value !== "string" || value.length > LIMITS.maxUriLength || value.includes("#")) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

/** RFC 7519 section 2: a NumericDate, a finite non-negative number of seconds since the epoch. */
export function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/**
 * RFC 7515 section 4.1.9: a JOSE `typ` names one of `accepted` (media types given without "application/") when it
 * equals one case-insensitively, with or without the "application/" prefix.
 */
export function isJoseType(typ: string, accepted: readonly string[]): boolean {
  const lower = typ.toLowerCase();
  return accepted.includes(lower.startsWith("application/") ? lower.slice("application/".length) : lower);
}
