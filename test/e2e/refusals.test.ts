// Client-authentication refusals through the real `npm run dev`: replay, disabled client, unknown key and wrong
// audience each get 401 invalid_client, and a control request shows the same client is otherwise accepted. A client
// registered with `--legacy-audience` is accepted with the token endpoint URL as a plain string, and nothing more.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyAccessToken } from "./examples/verify-access-token";
import { addClient, setClientStatus } from "./support/cli";
import { type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";
import { postAssertion, signAssertion } from "./support/token-request";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const CLIENT_ID = "e2e-refusals";
const DISABLED_CLIENT_ID = "e2e-disabled";
const LEGACY_CLIENT_ID = "e2e-legacy-audience";
const INVALID_CLIENT = { status: 401, body: { error: "invalid_client" } };

let folder: string;
let key: ClientKey;
let disabledClientKey: ClientKey;
let legacyClientKey: ClientKey;

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
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("client authentication through the real server", () => {
  it("accepts a well-formed assertion (the control for every refusal below)", async () => {
    const response = await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key, audience: issuer }));
    expect(response.status).toBe(200);
    await verifyAccessToken(issuer, response.body.access_token, issuer);
  });

  it("rejects a replayed assertion with invalid_client", async () => {
    const assertion = await signAssertion({ clientId: CLIENT_ID, key, audience: issuer });
    expect((await postAssertion(issuer, assertion)).status).toBe(200);
    expect(await postAssertion(issuer, assertion)).toMatchObject(INVALID_CLIENT);
  });

  it("rejects a disabled client with invalid_client, and accepts it again once enabled", async () => {
    const assertion = () => signAssertion({ clientId: DISABLED_CLIENT_ID, key: disabledClientKey, audience: issuer });
    expect((await postAssertion(issuer, await assertion())).status).toBe(200);
    await setClientStatus(persistTo, DISABLED_CLIENT_ID, "disable");
    expect(await postAssertion(issuer, await assertion())).toMatchObject(INVALID_CLIENT);
    await setClientStatus(persistTo, DISABLED_CLIENT_ID, "enable");
    expect((await postAssertion(issuer, await assertion())).status).toBe(200);
  });

  it("rejects an assertion signed with a key the client never registered (unknown kid) with invalid_client", async () => {
    const unregistered = await generateClientKey("ES256");
    expect(
      await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key: unregistered, audience: issuer })),
    ).toMatchObject(INVALID_CLIENT);
  });

  it("rejects an assertion signed by an unregistered key that claims a registered kid with invalid_client", async () => {
    const impostor = { ...(await generateClientKey("ES256")), kid: key.kid };
    expect(
      await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key: impostor, audience: issuer })),
    ).toMatchObject(INVALID_CLIENT);
  });

  it.each([
    ["the token endpoint URL (no --legacy-audience)", () => `${issuer}/token`],
    ["the issuer inside an array", () => [issuer]],
    ["the issuer with a trailing slash", () => `${issuer}/`],
    ["another server's issuer", () => "https://tokens.example.com"],
  ])("rejects an assertion whose aud is %s with invalid_client", async (_name, audience) => {
    expect(
      await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key, audience: audience() })),
    ).toMatchObject(INVALID_CLIENT);
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
    ])("still rejects %s with invalid_client", async (_name, audience) => {
      expect(await postAssertion(issuer, await legacyAssertion(audience()))).toMatchObject(INVALID_CLIENT);
    });
  });
});
