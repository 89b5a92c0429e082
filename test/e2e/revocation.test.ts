// Revocation and introspection end to end against the shared `npm run dev`: oauth4webapi revokes a token (RFC 7009)
// and introspects tokens (RFC 7662) with private_key_jwt, through the examples docs/clients.md reproduces; the example resource server Worker in online mode
// (introspection with its own client credentials, no cache) accepts a token, then refuses it on the very next request
// after its client revoked it, and after `clients revoke-tokens`; an offline verifier in this process still accepts
// the revoked token, which is what online mode is for.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createVerifier } from "../../src/resource-server/index";
import { introspectWithOauth4webapi } from "./examples/oauth4webapi-introspect";
import { revokeWithOauth4webapi } from "./examples/oauth4webapi-revoke";
import { addClient, cli, registerOperator } from "./support/cli";
import { type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";
import { type ExampleResourceServer, startExampleResourceServer } from "./support/example-resource-server";
import { withAuditLine } from "./support/server-audit";
import { postAssertion, signAssertion } from "./support/token-request";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const serverLog = inject("serverLog");
const AUDIENCE = "https://orders.example.test";
const APP = "e2e-revocation-app";
const RS = "e2e-revocation-rs";

let folder: string;
let example: ExampleResourceServer | undefined;
let appKey: ClientKey;
let rsKey: ClientKey;
let operatorEnv: Record<string, string>;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-revocation-"));
  appKey = await generateClientKey("ES256");
  await addClient(persistTo, APP, await writePublicJwks(folder, APP, [appKey]), [
    "--scope",
    "read",
    "--audience",
    AUDIENCE,
  ]);
  // The resource server's own client: allowed to introspect. Its private key goes to the example Worker as a secret.
  const pair = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  rsKey = {
    alg: "ES256",
    kid,
    privateKey: pair.privateKey,
    publicJwk: { ...publicJwk, kid, alg: "ES256", use: "sig" },
  };
  await addClient(persistTo, RS, await writePublicJwks(folder, RS, [rsKey]), ["--scope", "read", "--introspect"]);
  const envFile = join(folder, "example.dev.vars");
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: "ES256" };
  await writeFile(
    envFile,
    `INTROSPECTION_CLIENT_ID=${RS}\nINTROSPECTION_PRIVATE_KEY='${JSON.stringify(privateJwk)}'\nINTROSPECTION_CACHE_SECONDS=0\n`,
    { mode: 0o600 },
  );
  operatorEnv = await registerOperator(folder, persistTo, issuer, "e2e-revocation-operator");
  example = await startExampleResourceServer({
    issuer,
    audience: AUDIENCE,
    persistTo: join(folder, "example-state"),
    envFile,
  });
});

afterAll(async () => {
  await example?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function tokenForApp(): Promise<string> {
  const assertion = await signAssertion({ clientId: APP, key: appKey, audience: issuer });
  const response = await postAssertion(issuer, assertion, "read");
  expect(response.status).toBe(200);
  return response.body.access_token as string;
}

/** GET /hello on the example Worker with the token: its status and, when refused, its challenge. */
async function callExample(token: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(`${example!.origin}/hello`, { headers: { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get("WWW-Authenticate") };
}

/** The docs' oauth4webapi revocation example, as `clientId`. */
function revoke(clientId: string, key: ClientKey, token: string): Promise<void> {
  return revokeWithOauth4webapi({ issuer, clientId, privateKey: key.privateKey, kid: key.kid, token });
}

/** The docs' oauth4webapi introspection example, as the resource server's client. */
function introspect(token: string): Promise<oauth.IntrospectionResponse> {
  return introspectWithOauth4webapi({ issuer, clientId: RS, privateKey: rsKey.privateKey, kid: rsKey.kid, token });
}

describe("revocation reaches a resource server in online mode", () => {
  it("the example Worker accepts a token, then refuses it on the next request after its client revoked it", async () => {
    const token = await tokenForApp();
    expect(await callExample(token)).toEqual({ status: 200, challenge: null });
    const revoked = await withAuditLine(serverLog, () => revoke(APP, appKey, token), "revocation_request");
    expect(revoked.audit).toMatchObject({ outcome: "answered", target_client_id: APP, target_state: "revoked" });
    const refused = await callExample(token);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toMatch(/error="invalid_token"/);
    // Offline validation cannot see it: the same token still verifies by signature and claims alone.
    const offline = createVerifier({ issuer, audience: AUDIENCE });
    const request = new Request("https://orders.example.test/hello", { headers: { Authorization: `Bearer ${token}` } });
    expect((await offline.verify(request)).clientId).toBe(APP);
  });

  it("refuses every earlier token after clients revoke-tokens, and accepts one issued after the cut-off", async () => {
    const before = await tokenForApp();
    expect((await callExample(before)).status).toBe(200);
    const { stdout } = await cli(["clients", "revoke-tokens", APP, "--json"], operatorEnv);
    const { tokens_revoked_before: cutoff } = JSON.parse(stdout) as { tokens_revoked_before: number };
    expect((await callExample(before)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutoff * 1000 - Date.now()) + 50));
    const after = await tokenForApp();
    expect((await callExample(after)).status).toBe(200);
  });
});

describe("oauth4webapi introspection, as a client allowed to introspect", () => {
  it("gets the token's claims while it is active and active: false once revoked", async () => {
    const token = await tokenForApp();
    expect(await introspect(token)).toMatchObject({
      active: true,
      client_id: APP,
      sub: APP,
      aud: AUDIENCE,
      scope: "read",
      token_type: "Bearer",
    });
    await revoke(APP, appKey, token);
    expect(await introspect(token)).toEqual({ active: false });
  });

  it("is refused for a token revocation by another client: 400 unauthorized_client, and the token stays active", async () => {
    const token = await tokenForApp();
    await expect(revoke(RS, rsKey, token)).rejects.toMatchObject({
      error: "unauthorized_client",
      status: 400,
    });
    expect((await introspect(token)).active).toBe(true);
  });
});
