// Reads an HTTP body as UTF-8 text without ever holding more than a byte limit: the declared Content-Length and the
// streamed size are both checked. Returns null when over the limit, throws nothing else of its own. No parsing.

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class BodyNotUtf8 extends Error {}

/** The body as text, or null when it is (or declares to be) larger than `maxBytes`. Throws BodyNotUtf8. */
export async function readBoundedText(message: Request | Response, maxBytes: number): Promise<string | null> {
  const declared = message.headers.get("Content-Length");
  if (declared !== null && !(Number(declared) <= maxBytes)) {
    await message.body?.cancel().catch(() => {});
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
