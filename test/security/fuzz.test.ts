// Property tests (fast-check) through the real Worker: random bodies, mutated assertions and random claims
// never produce a 5xx, never a token for a broken assertion, and always an RFC 6749 error whose description is
// one of the fixed strings (so it cannot echo input or carry CR/LF). 5,500 cases per run.
import { createExecutionContext, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { Reason } from "../../src/protocol/errors";
import { wireErrorFor } from "../../src/protocol/wire-errors";
import {
  buildAssertion,
  ISSUER,
  nowSeconds,
  registerClient,
  type TestClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../worker/support";

/**
 * Calls the Worker's fetch handler directly with the real bindings. (Thousands of requests through
 * `exports.default.fetch` from one test would pile up as subrequests of that single test invocation.)
 */
function postToken(form: Record<string, string>, init: { body?: BodyInit } = {}): Promise<Response> {
  const request = new Request(TOKEN_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: init.body ?? new URLSearchParams(form).toString(),
  });
  return Promise.resolve(worker.fetch(request, env, createExecutionContext()));
}

const REASONS: Reason[] = [
  "not_found",
  "method_not_allowed",
  "unsupported_media_type",
  "body_too_large",
  "body_malformed",
  "too_many_fields",
  "duplicate_parameter",
  "grant_type_missing",
  "grant_type_unsupported",
  "multiple_auth_methods",
  "client_secret_not_accepted",
  "client_assertion_missing",
  "scope_malformed",
  "scope_not_allowed",
  "resource_invalid",
  "resource_not_allowed",
  "rate_limited",
];
const KNOWN_DESCRIPTIONS = new Set([
  ...REASONS.map((r) => wireErrorFor(r).description),
  wireErrorFor("replayed").description,
]);

let client: TestClient;
beforeAll(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {}); // thousands of audit lines would only slow the run
  await reset();
  client = await registerClient({ clientId: "fuzz-client" });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await reset();
});

async function expectWellFormedRefusal(response: Response) {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
  expect(typeof body.error).toBe("string");
  expect(KNOWN_DESCRIPTIONS.has(body.error_description as string)).toBe(true);
  expect(body.error_description).not.toMatch(/[\r\n]/);
}

const FORM_FIELDS = [
  "grant_type",
  "client_assertion_type",
  "client_assertion",
  "client_id",
  "scope",
  "resource",
  "client_secret",
];

const FUZZ_TIMEOUT_MS = 180_000;

describe("fuzz", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("random form bodies always get a well-formed 4xx", async () => {
    const field = fc.tuple(
      fc.oneof(fc.constantFrom(...FORM_FIELDS), fc.string({ maxLength: 12 })),
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.constantFrom(
          "client_credentials",
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          "a.b.c",
          "%",
          "%zz",
          "\u0000",
        ),
      ),
    );
    const body = fc.oneof(
      fc
        .array(field, { maxLength: 12 })
        .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")),
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        await expectWellFormedRefusal(await postToken({}, { body: raw }));
      }),
      { numRuns: 2000 },
    );
  });

  it("mutated valid assertions are always refused with a well-formed 4xx", async () => {
    const original = await buildAssertion(client, { claims: { exp: nowSeconds() + 280 } });
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("replace"),
        at: fc.nat(original.length - 1),
        ch: fc.constantFrom(..."ABCabc019-_.=+/ \u00e9"),
      }),
      fc.record({ kind: fc.constant("delete"), at: fc.nat(original.length - 1), n: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant("insert"), at: fc.nat(original.length), text: fc.string({ maxLength: 8 }) }),
      fc.record({
        kind: fc.constant("segments"),
        order: fc.shuffledSubarray([0, 1, 2], { minLength: 1 }),
        dup: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        let mutated: string;
        if (m.kind === "replace") mutated = original.slice(0, m.at) + m.ch + original.slice(m.at + 1);
        else if (m.kind === "delete") mutated = original.slice(0, m.at) + original.slice(m.at + m.n);
        else if (m.kind === "insert") mutated = original.slice(0, m.at) + m.text + original.slice(m.at);
        else {
          const parts = original.split(".");
          const picked = m.order.map((i) => parts[i]!);
          mutated = (m.dup ? [...picked, ...picked] : picked).join(".");
        }
        fc.pre(mutated !== original);
        await expectWellFormedRefusal(await postToken(tokenForm(mutated)));
      }),
      { numRuns: 2500 },
    );
  });

  it("validly signed assertions with random claims never cause a 5xx, and a token only for valid claims", async () => {
    const now = nowSeconds();
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    const claims = fc.record(
      {
        iss: fc.oneof(fc.constant(client.clientId), value),
        sub: fc.oneof(fc.constant(client.clientId), value),
        aud: fc.oneof(fc.constant(ISSUER), fc.constant([ISSUER]), fc.constant(`${ISSUER}/`), value),
        exp: fc.oneof(fc.integer({ min: now - 600, max: now + 900 }), value),
        iat: fc.oneof(fc.integer({ min: now - 600, max: now + 600 }), value),
        nbf: fc.oneof(fc.integer({ min: now - 600, max: now + 600 }), value),
        jti: fc.oneof(fc.uuid(), value),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(claims, async (c) => {
        const assertion = await buildAssertion(client, {
          claims: c,
          omit: ["iss", "sub", "aud", "jti", "iat", "exp"].filter((k) => !(k in c)),
        });
        const response = await postToken(tokenForm(assertion));
        if (response.status === 200) {
          // Only a fully valid claims set may get a token.
          expect(c.iss).toBe(client.clientId);
          expect(c.sub).toBe(client.clientId);
          expect(c.aud).toBe(ISSUER);
          expect(typeof c.jti).toBe("string");
          expect(typeof c.exp === "number" && c.exp > now - 30).toBe(true);
          return;
        }
        await expectWellFormedRefusal(response);
      }),
      { numRuns: 1000 },
    );
  });
});
