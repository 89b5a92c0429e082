// Strict decoding of JOSE segments: canonical base64url, fatal UTF-8, JSON objects only, no duplicate members.
// Pure: no I/O, no clock. Returns null on any violation; callers choose the error.

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes canonical, unpadded base64url. Returns null for anything else (padding, stray bits, other alphabets). */
export function decodeBase64url(segment: string): Uint8Array | null {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return null;
  let binary: string;
  try {
    binary = atob(segment.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  // Canonical form only: the same bytes must encode back to the same text (no non-zero trailing bits).
  if (btoa(binary).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_") !== segment) return null;
  return bytes;
}

/**
 * True when some JSON object in `text` repeats a member name. `text` must already be valid JSON:
 * JSON.parse silently keeps the last duplicate, which lets two parsers disagree on what a token says.
 */
export function hasDuplicateMembers(text: string): boolean {
  const stack: Array<{ keys: Set<string> | null; expectKey: boolean }> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return true;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (ch === "{") {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (ch === "[") {
      stack.push({ keys: null, expectKey: false });
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return false;
}

/** Decodes a base64url segment holding a JSON object, strictly. Returns null on any violation. */
export function decodeJsonObjectSegment(segment: string): Record<string, unknown> | null {
  const bytes = decodeBase64url(segment);
  if (!bytes) return null;
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  if (hasDuplicateMembers(text)) return null;
  return value as Record<string, unknown>;
}
