// What the URL of a request may not carry, whatever the endpoint: an origin other than the issuer's, plain http when the issuer is an https origin (a
// deployment that also answers http would let credentials and tokens cross the network in the clear), and
// credentials in the query string, where proxies, logs and browser history keep them (RFC 6749 section 3.2 and
// RFC 6750 section 2.3 keep them in the body or a header). Pure: no I/O, no clock; it never echoes a value.
import type { Reason } from "./errors";
import { isLoopbackHost } from "./syntax";

/** Query parameters that carry a credential or a token: a request naming one is refused, its value never read. */
const CREDENTIAL_PARAMETERS = [
  "client_assertion",
  "client_secret",
  "assertion",
  "token",
  "access_token",
  "refresh_token",
] as const;

/**
 * The reason a request to `url` is refused before anything else is read, or null when its URL is acceptable. The
 * service answers only at its issuer's origin: a deployment reached at another name (a workers.dev or preview URL,
 * a second route) is not the issuer its tokens name. A loopback issuer accepts any loopback origin (local runs pick
 * their ports), so a Worker deployed with the development ISSUER answers nothing.
 */
export function transportProblem(url: URL, issuer: string): Reason | null {
  if (url.protocol === "http:" && issuer.startsWith("https:")) return "insecure_transport";
  const expected = new URL(issuer);
  const loopback = isLoopbackHost(expected.hostname) && isLoopbackHost(url.hostname);
  if (!loopback && url.origin !== expected.origin) return "origin_not_issuer";
  if (CREDENTIAL_PARAMETERS.some((name) => url.searchParams.has(name))) return "credentials_in_query";
  return null;
}
