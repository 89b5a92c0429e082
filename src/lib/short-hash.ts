// A short, stable fingerprint of a string for log lines: the first 8 bytes of its SHA-256, in hex. Enough to match a
// line to a value someone holds, never enough to recover the value. Hashing only: no I/O.

export async function shortHash(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest, 0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
