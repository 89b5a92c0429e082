// Client-authentication refusals through the real `npm run dev`: replay, disabled client, unknown key and wrong
// audience each get 401 invalid_client, and a control request shows the same client is otherwise accepted.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyAccessToken } from "./examples/verify-access-token";
import { addClient, setClientStatus } from "./support/cli";
import { generateClientKey, writePublicJwks, type ClientKey } from "./support/client-keys";
import { postAssertion, signAssertion } from "./support/token-request";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const CLIENT_ID = "e2e-refusals";
const DISABLED_CLIENT_ID = "e2e-disabled";
const INVALID_CLIENT = { status: 401, body: { error: "invalid_client" } };

let folder: string;
let key: ClientKey;
let disabledClientKey: ClientKey;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-refusals-"));
  key = await generateClientKey("ES256");
  disabledClientKey = await generateClientKey("EdDSA");
  await addClient(persistTo, CLIENT_ID, await writePublicJwks(folder, CLIENT_ID, [key]));
  await addClient(persistTo, DISABLED_CLIENT_ID, await writePublicJwks(folder, DISABLED_CLIENT_ID, [disabledClientKey]));
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
    expect(await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key: unregistered, audience: issuer }))).toMatchObject(
      INVALID_CLIENT,
    );
  });

  it("rejects an assertion signed by an unregistered key that claims a registered kid with invalid_client", async () => {
    const impostor = { ...(await generateClientKey("ES256")), kid: key.kid };
    expect(await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key: impostor, audience: issuer }))).toMatchObject(
      INVALID_CLIENT,
    );
  });

  it.each([
    ["the token endpoint URL (no --legacy-audience)", () => `${issuer}/token`],
    ["the issuer inside an array", () => [issuer]],
    ["the issuer with a trailing slash", () => `${issuer}/`],
    ["another server's issuer", () => "https://tokens.example.com"],
  ])("rejects an assertion whose aud is %s with invalid_client", async (_name, audience) => {
    expect(await postAssertion(issuer, await signAssertion({ clientId: CLIENT_ID, key, audience: audience() }))).toMatchObject(
      INVALID_CLIENT,
    );
  });
});
