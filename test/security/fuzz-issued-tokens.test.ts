// Fuzzing the revocation and introspection endpoints (seeded by FUZZ_SEED, as the token endpoint's fuzz suite): random
// bodies always get a well-formed RFC 6749 refusal (a 4xx of exactly error and error_description, the fixed strings
// of the reason the audit line names), and random `token` values from an authenticated caller always get the answer
// for a token that is not ours: 200 with no body at /revoke, `{"active": false}` at /introspect. Never a 5xx.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { Reason } from "../../src/protocol/errors";
import { wireErrorFor } from "../../src/protocol/wire-errors";
import { audited, auditOf } from "../worker/audit-capture";
import { ISSUER_PATHS } from "../worker/issued-tokens/support";
import { buildAssertion, JWT_BEARER, registerClient } from "../worker/support";

const SEED = (env as { FUZZ_SEED?: string }).FUZZ_SEED
  ? Number((env as { FUZZ_SEED?: string }).FUZZ_SEED)
  : Date.now() % 2 ** 31;
const ENDPOINTS = [
  ["revocation", ISSUER_PATHS.revocation, "revocation_request"],
  ["introspection", ISSUER_PATHS.introspection, "introspection_request"],
] as const;

function send(url: string, body: BodyInit): Promise<Response> {
  const headers = { "Content-Type": "application/x-www-form-urlencoded" };
  const request = new Request(url, { method: "POST", headers, body });
  return audited(() => Promise.resolve(worker.fetch(request, env, createExecutionContext())));
}

async function check<T>(property: fc.IAsyncProperty<T>, numRuns: number, offset: number): Promise<void> {
  try {
    await fc.assert(property, { numRuns, seed: SEED + offset, endOnFailure: true });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const where = `fuzz seed ${SEED} (rerun: FUZZ_SEED=${SEED} npm run test:worker -- test/security/fuzz-issued-tokens.test.ts)`;
    if (cause instanceof Error) {
      cause.message = `${cause.message}\n${where}`;
      throw cause;
    }
    throw err;
  }
}

const FIELDS = ["token", "token_type_hint", "client_assertion_type", "client_assertion", "client_id", "client_secret"];
const randomBody = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })),
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.constantFrom(JWT_BEARER, "a.b.c", "access_token", "%", "%zz", "\u0000"),
        ),
      ),
      { maxLength: 10 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
);

/** Random `token` values: text, compact-JWS-shaped base64url, and the odd very long one. */
const randomToken = fc.oneof(
  fc.string({ minLength: 1, maxLength: 200 }),
  fc.array(fc.base64String({ maxLength: 80 }), { minLength: 3, maxLength: 3 }).map((parts) => parts.join(".")),
  fc.constantFrom("x".repeat(9000), "e30.e30.", "eyJhbGciOiJub25lIn0.e30."),
);

describe.each(ENDPOINTS)("fuzz: the %s endpoint", (_name, url, event) => {
  it("answers random bodies with a well-formed 4xx naming its reason", async () => {
    await check(
      fc.asyncProperty(randomBody, async (raw) => {
        const response = await send(url, raw);
        const reason = auditOf(response, event).reason as Reason;
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        const body = (await response.json()) as Record<string, unknown>;
        const wire = wireErrorFor(reason);
        expect({ status: response.status, ...body }).toEqual({
          status: wire.status,
          error: wire.error,
          error_description: wire.description,
        });
      }),
      500,
      url.length,
    );
  });

  it("answers an authenticated caller's random token as one that is not ours", async () => {
    const caller = await registerClient({ record: { introspection: true } });
    await check(
      fc.asyncProperty(randomToken, async (token) => {
        const form = { client_assertion_type: JWT_BEARER, client_assertion: await buildAssertion(caller), token };
        const response = await send(url, new URLSearchParams(form).toString());
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).toBe(event === "revocation_request" ? "" : '{"active":false}');
        expect(["token_malformed", "token_not_ours"]).toContain(auditOf(response, event).target_state);
      }),
      150,
      url.length + 7,
    );
  });
});
