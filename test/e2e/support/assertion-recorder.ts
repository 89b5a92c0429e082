// Records the client assertions a client library posts, by wrapping the global fetch while a call runs, so a
// test can show which `aud`, `alg` and `typ` the library sends. Passes every request through unchanged.
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from "jose";

export interface RecordedAssertion {
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  /** The form fields of the token request, the assertion included. */
  form: Record<string, string>;
}

export async function recordAssertions<T>(
  call: () => Promise<T>,
): Promise<{ result: T; assertions: RecordedAssertion[] }> {
  const assertions: RecordedAssertion[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const body = init?.body;
    if (body instanceof URLSearchParams || typeof body === "string") {
      const form = Object.fromEntries(new URLSearchParams(body));
      const assertion = form.client_assertion;
      if (assertion) assertions.push({ header: decodeProtectedHeader(assertion), claims: decodeJwt(assertion), form });
    }
    return realFetch(input, init);
  };
  try {
    return { result: await call(), assertions };
  } finally {
    globalThis.fetch = realFetch;
  }
}
