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
 * Host name endings that name no public server: loopback (RFC 6761 `.localhost`), multicast DNS (RFC 6762 `.local`),
 * private use (RFC 8375 `.home.arpa`, ICANN's `.internal`) and the common private suffixes. A key server there is
 * inside someone's network: the service fetching it would be a server-side request forgery.
 */
const PRIVATE_HOST_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".home.arpa",
  ".lan",
  ".intranet",
  ".corp",
  ".private",
  // a Kubernetes service name (kubernetes.default.svc): inside a cluster
  ".svc",
];

/** An IP address written as the host (URL.hostname turns every IPv4 spelling into dotted decimal; IPv6 is bracketed). */
function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Why `value` may not be a client's jwks_uri, or null when it may: an https URL without credentials or fragment, on
 * the default port, whose host is a public DNS name: no IP literal, no single-label or private name, since the service
 * fetches it (an SSRF guard). A loopback host (localhost, 127.0.0.1, [::1]) is allowed, over http or https and on any
 * port, for local testing; the fetch refuses it unless ALLOW_INSECURE_JWKS_URI is "true".
 */
export function jwksUriProblem(value: unknown): string | null {
  if (typeof value !== "string" || value.length > LIMITS.maxUriLength) {
    return `must be a URL of at most ${LIMITS.maxUriLength} characters`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (value.includes("#")) return "must have no fragment";
  if (url.username || url.password) return "must carry no credentials";
  if (isLoopbackHost(url.hostname)) {
    return url.protocol === "https:" || url.protocol === "http:" ? null : "must use https (http only for localhost)";
  }
  if (url.protocol !== "https:") return "must use https (http only for localhost)";
  if (url.port !== "") return "must use the default https port, 443";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (isIpLiteral(host)) return "must name its host, not an IP address";
  if (!host.includes(".") || PRIVATE_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return "must name a public host (not a single-label, .local, .internal or other private name)";
  }
  return null;
}

/** Whether `value` may be a client's jwks_uri (jwksUriProblem says why not). */
export function isJwksUri(value: unknown): value is string {
  return jwksUriProblem(value) === null;
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
