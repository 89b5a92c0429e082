// What the Worker makes of its storage: each outcome of the replay guard's consume becomes the documented
// response and only "fresh" issues a token; a KV or Durable Object outage is a 503 with Retry-After, never a 500.
// The bindings are replaced by stubs for each case; everything else is the real Worker.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import {
  audited,
  buildAssertion,
  expectIssued,
  ISSUER,
  refusalOf,
  registerClient,
  requestToken,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";

function guardAnswering(outcome: unknown): DurableObjectNamespace {
  const stub = { consume: async () => outcome };
  return { getByName: () => stub } as unknown as DurableObjectNamespace;
}

/** A valid token request from a registered client, handled by the Worker with some bindings replaced. */
async function tokenRequestWithBindings(bindings: {
  CLIENTS?: KVNamespace;
  CLIENT_AUTHORITY?: DurableObjectNamespace;
}): Promise<Response> {
  const client = await registerClient();
  const request = new Request(TOKEN_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(tokenForm(await buildAssertion(client))).toString(),
  });
  return audited(() =>
    Promise.resolve(worker.fetch(request, { ...env, ...bindings } as typeof env, createExecutionContext())),
  );
}

async function tokenRequestWith(outcome: unknown): Promise<Response> {
  return tokenRequestWithBindings({ CLIENT_AUTHORITY: guardAnswering(outcome) });
}

describe("the replay guard's answer", () => {
  it("fresh: a token is issued", async () => {
    await expectIssued(await tokenRequestWith({ outcome: "fresh" }));
  });

  it.each([
    ["replayed", { outcome: "replayed" }, 401, "invalid_client", "replayed"],
    ["disabled by the client's authority", { outcome: "disabled" }, 401, "invalid_client", "client_disabled"],
    ["the key retired at the client's authority", { outcome: "key_retired" }, 401, "invalid_client", "key_retired"],
    ["no record at the client's authority (removed)", { outcome: "unknown" }, 401, "invalid_client", "client_unknown"],
    ["expired by the guard's clock before it could be spent", { outcome: "expired" }, 401, "invalid_client", "expired"],
    ["rate limited", { outcome: "rate_limited", retryAfterSeconds: 7 }, 429, "temporarily_unavailable", "rate_limited"],
    [
      "an outcome this Worker does not know",
      { outcome: "maybe" },
      503,
      "temporarily_unavailable",
      "replay_guard_unavailable",
    ],
  ])("%s: no token", async (_name, outcome, status, error, reason) => {
    const response = await tokenRequestWith(outcome);
    expect(await refusalOf(response)).toEqual({ status, error, reason });
  });

  it("rate limited: Retry-After carries the guard's wait", async () => {
    const response = await tokenRequestWith({ outcome: "rate_limited", retryAfterSeconds: 7 });
    expect(response.headers.get("Retry-After")).toBe("7");
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
    authorizeOperator: async () => {
      throw new Error("Durable Object reset because its code was updated");
    },
    read: async () => {
      throw new Error("Durable Object reset because its code was updated");
    },
    change: async () => {
      throw new Error("Durable Object reset because its code was updated");
    },
  }),
} as unknown as DurableObjectNamespace;

async function expectUnavailable(response: Response, reason: string, event: "token_request" | "admin_request") {
  expect(response.headers.get("Retry-After")).toBe("1");
  expect(await refusalOf(response, event)).toEqual({ status: 503, error: "temporarily_unavailable", reason });
}

describe("storage outages", () => {
  it("a KV failure while reading the client answers 503 with Retry-After", async () => {
    await expectUnavailable(
      await tokenRequestWithBindings({ CLIENTS: failingKv }),
      "registry_unavailable",
      "token_request",
    );
  });

  it("a replay guard failure answers 503 with Retry-After", async () => {
    await expectUnavailable(
      await tokenRequestWithBindings({ CLIENT_AUTHORITY: failingGuard }),
      "replay_guard_unavailable",
      "token_request",
    );
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
    const send = (request: Request, bindings: Partial<typeof env>) =>
      audited(() => Promise.resolve(worker.fetch(request, { ...env, ...bindings }, createExecutionContext())));
    const admin = "admin_request";
    // The operator's own authority answers; only the target client's fails.
    const targetFails = {
      getByName: (name: string) =>
        name === target.clientId ? failingGuard.getByName(name) : env.CLIENT_AUTHORITY.getByName(name),
    } as unknown as typeof env.CLIENT_AUTHORITY;
    const list = new Request(`${ISSUER}/admin/clients`, { headers: { Authorization: `Bearer ${access_token}` } });
    await expectUnavailable(await send(list, { CLIENTS: failingKv }), "registry_unavailable", admin);
    for (const [method, path] of [
      ["GET", ""],
      ["POST", "/disable"],
    ]) {
      await expectUnavailable(
        await send(adminRequest(method!, path!), { CLIENT_AUTHORITY: targetFails }),
        "replay_guard_unavailable",
        admin,
      );
    }
    // The operator's authority failing is a 503 too, not a 401: nothing says the token is bad.
    const allFail = failingGuard as unknown as typeof env.CLIENT_AUTHORITY;
    await expectUnavailable(
      await send(adminRequest("GET", ""), { CLIENT_AUTHORITY: allFail }),
      "replay_guard_unavailable",
      admin,
    );
  });
});
