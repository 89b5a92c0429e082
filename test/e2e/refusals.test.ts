// Client-authentication refusals through the real `npm run dev`, with the shipped configuration: replay, disabled
// client, unknown key and wrong audience each get 401 invalid_client, checked by the reason code the server's audit
// line gives, and a control request shows the same client is otherwise accepted. A client disabled through the
// management API is refused on its very next request, whatever the server's client cache holds. A `--legacy-audience`
// client is accepted with the token endpoint URL as a plain string, and nothing more.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyAccessToken } from "./examples/verify-access-token";
import { addClient, registerOperator, setClientStatus } from "./support/cli";
import { type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";
import { SHIPPED_CLIENT_CACHE_TTL_SECONDS } from "./support/dev-server";
import { withAuditLine } from "./support/server-audit";
import { postAssertion, signAssertion, type TokenResponse } from "./support/token-request";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const serverLog = inject("serverLog");
const CLIENT_ID = "e2e-refusals";
const DISABLED_CLIENT_ID = "e2e-disabled";
const LEGACY_CLIENT_ID = "e2e-legacy-audience";

let folder: string;
let key: ClientKey;
let disabledClientKey: ClientKey;
let legacyClientKey: ClientKey;
let operatorEnv: Record<string, string>;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-refusals-"));
  key = await generateClientKey("ES256");
  disabledClientKey = await generateClientKey("EdDSA");
  legacyClientKey = await generateClientKey("ES256");
  await addClient(persistTo, CLIENT_ID, await writePublicJwks(folder, CLIENT_ID, [key]));
  await addClient(
    persistTo,
    DISABLED_CLIENT_ID,
    await writePublicJwks(folder, DISABLED_CLIENT_ID, [disabledClientKey]),
  );
  await addClient(persistTo, LEGACY_CLIENT_ID, await writePublicJwks(folder, LEGACY_CLIENT_ID, [legacyClientKey]), [
    "--legacy-audience",
  ]);
  operatorEnv = await registerOperator(folder, persistTo, issuer);
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Posts an assertion and returns the wire answer with the reason code of the server's audit line for it. */
async function send(assertion: string): Promise<{ response: TokenResponse; reason: string | undefined }> {
  const { result, audit } = await withAuditLine(serverLog, () => postAssertion(issuer, assertion));
  return { response: result, reason: audit.reason };
}

async function expectRefused(assertion: string, reason: string): Promise<void> {
  const { response, reason: logged } = await send(assertion);
  expect({ status: response.status, error: response.body.error, reason: logged }).toEqual({
    status: 401,
    error: "invalid_client",
    reason,
  });
}

describe("client authentication through the real server", () => {
  it("accepts a well-formed assertion (the control for every refusal below)", async () => {
    const { response, reason } = await send(await signAssertion({ clientId: CLIENT_ID, key, audience: issuer }));
    expect({ status: response.status, reason }).toEqual({ status: 200, reason: undefined });
    await verifyAccessToken(issuer, response.body.access_token, issuer);
  });

  it("rejects a replayed assertion as a replay", async () => {
    const assertion = await signAssertion({ clientId: CLIENT_ID, key, audience: issuer });
    expect((await send(assertion)).response.status).toBe(200);
    await expectRefused(assertion, "replayed");
  });

  it("rejects a client disabled through the management API on its very next request, and accepts it again once enabled", async () => {
    const assertion = () => signAssertion({ clientId: DISABLED_CLIENT_ID, key: disabledClientKey, audience: issuer });
    // The first token leaves the record in the server's isolate cache (CLIENT_CACHE_TTL): the change must beat it.
    expect(SHIPPED_CLIENT_CACHE_TTL_SECONDS).toBeGreaterThan(0);
    expect((await send(await assertion())).response.status).toBe(200);
    await setClientStatus(operatorEnv, DISABLED_CLIENT_ID, "disable");
    await expectRefused(await assertion(), "client_disabled");
    await setClientStatus(operatorEnv, DISABLED_CLIENT_ID, "enable");
    expect((await send(await assertion())).response.status).toBe(200);
  });

  it("rejects an assertion signed with a key the client never registered (unknown kid)", async () => {
    const unregistered = await generateClientKey("ES256");
    await expectRefused(
      await signAssertion({ clientId: CLIENT_ID, key: unregistered, audience: issuer }),
      "no_matching_key",
    );
  });

  it("rejects an assertion signed by an unregistered key that claims a registered kid", async () => {
    const impostor = { ...(await generateClientKey("ES256")), kid: key.kid };
    await expectRefused(
      await signAssertion({ clientId: CLIENT_ID, key: impostor, audience: issuer }),
      "signature_invalid",
    );
  });

  it.each([
    ["the token endpoint URL (no --legacy-audience)", () => `${issuer}/token`],
    ["the issuer twice in an array", () => [issuer, issuer]],
    ["the issuer with a trailing slash", () => `${issuer}/`],
    ["another server's issuer", () => "https://tokens.example.com"],
  ])("rejects an assertion whose aud is %s", async (_name, audience) => {
    await expectRefused(await signAssertion({ clientId: CLIENT_ID, key, audience: audience() }), "aud_invalid");
  });

  it("accepts the issuer alone in an array (RFC 10070)", async () => {
    const response = await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key, audience: [issuer] }));
    expect(response.status).toBe(200);
  });

  describe("a client registered with --legacy-audience", () => {
    const legacyAssertion = (audience: string | string[]) =>
      signAssertion({ clientId: LEGACY_CLIENT_ID, key: legacyClientKey, audience });

    it("is accepted with the issuer, and also with the token endpoint URL taken from the metadata", async () => {
      const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as {
        token_endpoint: string;
      };
      for (const audience of [issuer, metadata.token_endpoint]) {
        const response = await postAssertion(issuer, await legacyAssertion(audience));
        expect(response.status, audience).toBe(200);
        await verifyAccessToken(issuer, response.body.access_token, issuer);
      }
    });

    it.each([
      ["the token endpoint URL inside an array", () => [`${issuer}/token`]],
      ["the token endpoint URL with a trailing slash", () => `${issuer}/token/`],
      ["the issuer and the token endpoint URL together", () => [issuer, `${issuer}/token`]],
    ])("still rejects %s", async (_name, audience) => {
      await expectRefused(await legacyAssertion(audience()), "aud_invalid");
    });
  });
});
