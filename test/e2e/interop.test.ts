// Real client libraries (openid-client, oauth4webapi), plain fetch + jose, and docs/examples/openssl-curl.sh get
// tokens from the shared `npm run dev`; every token is verified against the served JWKS. Clients are added via the CLI.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { getTokenWithFetch } from "./examples/fetch-jose";
import { loadClientKey } from "./examples/load-client-key";
import { getTokenWithOauth4webapi } from "./examples/oauth4webapi";
import { getTokenWithOpenidClient } from "./examples/openid-client";
import { verifyAccessToken } from "./examples/verify-access-token";
import { recordAssertions } from "./support/assertion-recorder";
import { addClient, cli, runOpensslCurlExample } from "./support/cli";
import { CLIENT_ALGORITHMS, type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const SCOPE = "orders.read";
const AUDIENCE = "https://api.example.test";

type GetToken = (options: {
  issuer: string;
  clientId: string;
  key: ClientKey;
  scope: string;
}) => Promise<Record<string, unknown>>;

const clients: { name: string; clientId: string; getToken: GetToken }[] = [
  {
    name: "openid-client",
    clientId: "e2e-openid-client",
    getToken: async ({ key, ...rest }) => ({
      ...(await getTokenWithOpenidClient({ ...rest, privateKey: key.privateKey, kid: key.kid })),
    }),
  },
  {
    name: "oauth4webapi",
    clientId: "e2e-oauth4webapi",
    getToken: async ({ key, ...rest }) => ({
      ...(await getTokenWithOauth4webapi({ ...rest, privateKey: key.privateKey, kid: key.kid })),
    }),
  },
  {
    name: "fetch + jose",
    clientId: "e2e-fetch-jose",
    getToken: ({ key, ...rest }) =>
      getTokenWithFetch({ ...rest, privateKey: key.privateKey, alg: key.alg, kid: key.kid }),
  },
];

let folder: string;
const keys = new Map<string, ClientKey[]>();

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-keys-"));
  for (const { clientId } of clients) {
    const clientKeys = await Promise.all(CLIENT_ALGORITHMS.map(generateClientKey));
    keys.set(clientId, clientKeys);
    await addClient(persistTo, clientId, await writePublicJwks(folder, clientId, clientKeys), [
      "--scope",
      SCOPE,
      "--audience",
      AUDIENCE,
    ]);
  }
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe.each(clients)("$name", ({ clientId, getToken }) => {
  it.each(CLIENT_ALGORITHMS)("gets a token that verifies against the served JWKS with a %s key", async (alg) => {
    const key = keys.get(clientId)!.find((k) => k.alg === alg)!;
    const { result, assertions } = await recordAssertions(() => getToken({ issuer, clientId, key, scope: SCOPE }));

    expect(result).toMatchObject({
      token_type: expect.stringMatching(/^bearer$/i),
      scope: SCOPE,
      expires_in: expect.any(Number),
    });
    const { payload, protectedHeader } = await verifyAccessToken(issuer, result.access_token, AUDIENCE);
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(payload).toMatchObject({ iss: issuer, sub: clientId, client_id: clientId, scope: SCOPE, aud: AUDIENCE });

    // What the library put in its assertion: aud is the issuer string itself, which is what the server requires.
    expect(assertions).toHaveLength(1);
    const [sent] = assertions;
    expect(sent!.claims).toMatchObject({ iss: clientId, sub: clientId, aud: issuer });
    expect(sent!.header.kid).toBe(key.kid);
    expect(sent!.header.alg).toBe(alg === "EdDSA" && clientId !== "e2e-fetch-jose" ? "Ed25519" : alg);
  });
});

describe("a key made by the CLI (keys generate)", () => {
  it("loads into openid-client and gets a token that verifies against the served JWKS", async () => {
    const prefix = join(folder, "cli-made");
    await cli(["keys", "generate", "--alg", "ES256", "--out", prefix]);
    await addClient(persistTo, "e2e-cli-key", `${prefix}.public.jwk`, ["--scope", SCOPE]);
    const { privateKey, kid } = await loadClientKey(`${prefix}.private.jwk`);
    const response = await getTokenWithOpenidClient({ issuer, clientId: "e2e-cli-key", privateKey, kid, scope: SCOPE });
    const { payload } = await verifyAccessToken(issuer, response.access_token, issuer);
    expect(payload).toMatchObject({ sub: "e2e-cli-key", scope: SCOPE });
  });
});

describe("docs/examples/openssl-curl.sh", () => {
  it("gets a token with plain openssl and curl that verifies against the served JWKS", async () => {
    const stdout = await runOpensslCurlExample(issuer, "e2e-openssl-curl", persistTo);
    const response = JSON.parse(stdout) as Record<string, unknown>;
    expect(response).toMatchObject({ token_type: "Bearer", scope: "orders.read" });
    const { payload } = await verifyAccessToken(issuer, response.access_token, "https://api.example.com");
    expect(payload).toMatchObject({ iss: issuer, sub: "e2e-openssl-curl" });
  });
});
