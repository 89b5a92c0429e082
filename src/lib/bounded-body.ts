// Reads an HTTP body as UTF-8 text without ever holding more than a byte limit: the declared Content-Length and the
// streamed size are both checked. Returns null when over the limit, throws nothing else of its own. No parsing.
// It never cancels an incoming request's body (see below).

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class BodyNotUtf8 extends Error {}

/**
 * The body as text, or null when it is (or declares to be) larger than `maxBytes`. Throws BodyNotUtf8. An incoming
 * request streamed over the limit is drained, up to `drainBytes` in all, before the refusal.
 */
export async function readBoundedText(
  message: Request | Response,
  maxBytes: number,
  drainBytes = 0,
): Promise<string | null> {
  // An outbound response over the limit is cancelled, freeing its connection. An incoming request's body is left
  // unread instead: cancelling it makes `wrangler dev` answer 503 "Your worker restarted mid-request" in place of
  // the 413, while the runtime discards an unread body itself once the response is sent.
  const release = message instanceof Response;
  const declared = message.headers.get("Content-Length");
  if (declared !== null && !(Number(declared) <= maxBytes)) {
    if (release) await message.body?.cancel().catch(() => {});
    return null;
  }
  if (!message.body) return "";
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      // An incoming body is read to its end and dropped, up to `drainBytes`, for the same reason; past that it is cancelled.
      if (!release) {
        for (let drained = size; drained <= drainBytes; ) {
          const next = await reader.read();
          if (next.done) return null;
          drained += next.value.byteLength;
        }
      }
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BodyNotUtf8();
  }
}
