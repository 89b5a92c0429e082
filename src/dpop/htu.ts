// Compares a DPoP proof's `htu` with the URI of the request it came with (RFC 9449 section 4.3, check 9): scheme,
// host, port and path, ignoring query and fragment, after RFC 3986 section 6.2.2 and 6.2.3 normalisation. Pure.

/** RFC 3986 section 2.3: characters that mean the same whether percent-encoded or not. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encoding normalisation: unreserved characters decoded, the other escapes in upper case. */
function normalizePercentEncoding(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/**
 * The parts of an http(s) URI that `htu` must match, normalised: the URL parser lower-cases scheme and host, drops a
 * default port and resolves dot segments (section 6.2.2.1, 6.2.2.3, 6.2.3). Null for anything else, or a URI that
 * names a user (no request URI does).
 */
export function htuTarget(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username !== "" || url.password !== "") return null;
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname || "/")}`;
}

/** True when `htu` names the same resource as `requestUri`, query and fragment aside. */
export function htuMatches(htu: string, requestUri: string): boolean {
  const claimed = htuTarget(htu);
  return claimed !== null && claimed === htuTarget(requestUri);
}
