// What the Worker makes of its storage: each outcome of the replay guard's consume becomes the documented
// response and only "fresh" issues a token; a KV or Durable Object outage is a 503 with Retry-After, never a 500.
// The bindings are replaced by stubs for each case; everything else is the real Worker.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { buildAssertion, errorOf, ISSUER, registerClient, requestToken, TOKEN_ENDPOINT, tokenForm } from "../support";

function guardAnswering(outcome: unknown): DurableObjectNamespace {
  const stub = { consume: async () => outcome };
  return { getByName: () => stub } as unknown as DurableObjectNamespace;
}

/** A valid token request from a registered client, handled by the Worker with some bindings replaced. */
async function tokenRequestWithBindings(bindings: {
  CLIENTS?: KVNamespace;
  REPLAY_GUARD?: DurableObjectNamespace;
}): Promise<Response> {
  const client = await registerClient();
  const request = new Request(TOKEN_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(tokenForm(await buildAssertion(client))).toString(),
  });
  return worker.fetch(request, { ...env, ...bindings } as typeof env, createExecutionContext());
}

async function tokenRequestWith(outcome: unknown): Promise<Response> {
  return tokenRequestWithBindings({ REPLAY_GUARD: guardAnswering(outcome) });
}

describe("the replay guard's answer", () => {
  it("fresh: a token is issued", async () => {
    const response = await tokenRequestWith({ outcome: "fresh" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { access_token?: string }).access_token).toBeTypeOf("string");
  });

  it.each([
    ["replayed", { outcome: "replayed" }, 401, "invalid_client"],
    ["revoked (kill switch)", { outcome: "revoked" }, 401, "invalid_client"],
    ["expired by the guard's clock before it could be spent", { outcome: "expired" }, 401, "invalid_client"],
    ["rate limited", { outcome: "rate_limited", retryAfterSeconds: 7 }, 429, "temporarily_unavailable"],
    ["an outcome this Worker does not know", { outcome: "maybe" }, 503, "temporarily_unavailable"],
  ])("%s: no token", async (_name, outcome, status, error) => {
    const response = await tokenRequestWith(outcome);
    expect(await errorOf(response)).toMatchObject({ status, error });
  });
});

const failingKv = {
  get: async () => {
    throw new Error("KV GET failed: 503 Service Unavailable");
  },
  put: async () => {
    throw new Error("KV PUT failed: 503 Service Unavailable");
  },
} as unknown as KVNamespace;

const failingGuard = {
  getByName: () => ({
    consume: async () => {
      throw new Error("Durable Object reset because its code was updated");
    },
    revocations: async () => {
      throw new Error("Durable Object reset because its code was updated");
    },
  }),
} as unknown as DurableObjectNamespace;

async function expectUnavailable(response: Response) {
  expect(await errorOf(response)).toMatchObject({ status: 503, error: "temporarily_unavailable" });
  expect(response.headers.get("Retry-After")).toBe("1");
}

describe("storage outages", () => {
  it("a KV failure while reading the client answers 503 with Retry-After", async () => {
    await expectUnavailable(await tokenRequestWithBindings({ CLIENTS: failingKv }));
  });

  it("a replay guard failure answers 503 with Retry-After", async () => {
    await expectUnavailable(await tokenRequestWithBindings({ REPLAY_GUARD: failingGuard }));
  });

  it("admin API: a KV or Durable Object failure answers 503, not 500", async () => {
    const operator = await registerClient({ record: { scopes: ["admin"], audiences: [`${ISSUER}/admin`] } });
    const issued = await requestToken(operator, { scope: "admin", resource: `${ISSUER}/admin` });
    const { access_token } = (await issued.json()) as { access_token: string };
    const target = await registerClient();
    const adminRequest = (method: string, path: string) =>
      new Request(`${ISSUER}/admin/clients/${target.clientId}${path}`, {
        method,
        headers: { Authorization: `Bearer ${access_token}` },
      });
    await expectUnavailable(
      await worker.fetch(adminRequest("GET", ""), { ...env, CLIENTS: failingKv }, createExecutionContext()),
    );
    await expectUnavailable(
      await worker.fetch(adminRequest("POST", "/disable"), { ...env, CLIENTS: failingKv }, createExecutionContext()),
    );
    await expectUnavailable(
      await worker.fetch(adminRequest("GET", ""), { ...env, REPLAY_GUARD: failingGuard }, createExecutionContext()),
    );
  });
});
