// The audit trail of the token endpoint: exactly one structured JSON line per token request decision, with the
// reason code, and never the assertion, the access token, a key or a raw jti.
import { exports } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import {
  audited,
  auditLog,
  buildAssertion,
  postToken,
  registerClient,
  type TestClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../support";

describe("audit log", () => {
  it("writes one line for an issued token with client_id, kid, jti hash and latency, and no secrets", async () => {
    const client = await registerClient();
    const log = vi.spyOn(console, "log");
    const assertion = await buildAssertion(client, { claims: { jti: "audit-jti-1" } });
    const response = await postToken(tokenForm(assertion));
    const { access_token } = (await response.json()) as { access_token: string };
    expect(auditLog()).toEqual([
      expect.objectContaining({
        event: "token_request",
        outcome: "issued",
        status: 200,
        client_id: client.clientId,
        kid: client.key.kid,
      }),
    ]);
    const [line] = auditLog();
    expect(line!.jti_sha256).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof line!.latency_ms).toBe("number");
    const raw = log.mock.calls.map((args) => args.join(" ")).join("\n");
    expect(raw).toContain('"token_request"');
    expect(raw).not.toContain(assertion.split(".")[2]);
    expect(raw).not.toContain(access_token.split(".")[2]);
    expect(raw).not.toContain("audit-jti-1");
    expect(raw).not.toContain(String(client.key.publicJwk.x));
  });

  const refusals: Array<[string, (c: TestClient) => Promise<Record<string, string>>, string]> = [
    [
      "names aud_invalid for a wrong audience",
      async (c) => tokenForm(await buildAssertion(c, { claims: { aud: "https://x.example" } })),
      "aud_invalid",
    ],
    [
      "names expired for an expired assertion",
      async (c) => tokenForm(await buildAssertion(c, { claims: { exp: 1_000, iat: 900 } })),
      "expired",
    ],
    ["names alg_not_allowed for alg none", async () => tokenForm("eyJhbGciOiJub25lIn0.e30."), "alg_not_allowed"],
    [
      "names signature_invalid for a forged signature",
      async (c) => {
        const [h, p] = (await buildAssertion(c)).split(".");
        return tokenForm(`${h}.${p}.${"A".repeat(86)}`);
      },
      "signature_invalid",
    ],
    [
      "names grant_type_unsupported",
      async (c) => tokenForm(await buildAssertion(c), { grant_type: "password" }) as Record<string, string>,
      "grant_type_unsupported",
    ],
  ];
  for (const [name, form, reason] of refusals) {
    it(name, async () => {
      const client = await registerClient();
      await postToken(await form(client));
      expect(auditLog()).toEqual([expect.objectContaining({ event: "token_request", outcome: "refused", reason })]);
    });
  }

  it("names the client and kid a refused assertion claimed as claimed, and never a jti it did not prove", async () => {
    const client = await registerClient();
    await postToken(tokenForm(await buildAssertion(client, { claims: { aud: "https://x.example" } })));
    const [line] = auditLog();
    expect(line).toMatchObject({
      claimed_client_id: client.clientId,
      claimed_kid: client.key.kid,
      reason: "aud_invalid",
    });
    for (const proven of ["client_id", "kid", "jti_sha256", "token_jti_sha256"])
      expect(line).not.toHaveProperty(proven);
  });

  it("names the issued token's jti (hashed), aud, scope and exp, and the client and key that proved themselves", async () => {
    const client = await registerClient();
    const response = await postToken(tokenForm(await buildAssertion(client), { scope: "read" }));
    const { access_token } = (await response.json()) as { access_token: string };
    const claims = decodeJwt(access_token);
    const [line] = auditLog();
    expect(line).toMatchObject({
      outcome: "issued",
      client_id: client.clientId,
      kid: client.key.kid,
      token_aud: claims.aud,
      token_scope: "read",
      token_exp: claims.exp,
      token_jti_sha256: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(JSON.stringify(line)).not.toContain(claims.jti);
  });

  it("names replayed for a second use", async () => {
    const client = await registerClient();
    const assertion = await buildAssertion(client);
    await postToken(tokenForm(assertion));
    await postToken(tokenForm(assertion));
    expect(auditLog().map((l) => l.reason ?? l.outcome)).toEqual(["issued", "replayed"]);
  });

  it("logs a wrong method as refused, never as issued", async () => {
    const response = await audited(() => exports.default.fetch(TOKEN_ENDPOINT, { method: "GET" }));
    expect(response.status).toBe(405);
    expect(auditLog()).toEqual([
      expect.objectContaining({ outcome: "refused", reason: "method_not_allowed", status: 405 }),
    ]);
  });
});
