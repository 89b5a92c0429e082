// One outbound GET of a small JSON document the service needs (a client's JWK Set, an issuer's discovery document):
// one deadline for the whole exchange, a size cap on the body, one redirect at most and only to the same origin. It
// never sends credentials or cookies, never follows a URL to another host, and never logs what it read.
import { readBoundedText } from "../lib/bounded-body";

export interface BoundedFetch {
  /** The whole exchange, redirect and body included, must finish within this many milliseconds. */
  timeoutMs: number;
  maxBytes: number;
  accept: string;
  fetcher?: typeof fetch;
}

/** The parsed JSON body of a 200 answer, and its Cache-Control header. Throws an Error saying what failed. */
export async function fetchBoundedJson(
  uri: string,
  options: BoundedFetch,
): Promise<{ body: unknown; cacheControl: string | null }> {
  const fetcher = options.fetcher ?? fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = new URL(uri);
  for (let hop = 0; hop < 2; hop++) {
    const response = await fetcher(url.toString(), { redirect: "manual", signal, headers: { Accept: options.accept } });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get("Location");
      const next = location ? new URL(location, url) : null;
      if (!next || next.origin !== url.origin || hop === 1) throw new Error("redirect to another origin or loop");
      url = next;
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`status ${response.status}`);
    }
    const text = await readBoundedText(response, options.maxBytes);
    if (text === null) throw new Error("document over the size limit");
    return { body: JSON.parse(text), cacheControl: response.headers.get("Cache-Control") };
  }
  throw new Error("too many redirects");
}
