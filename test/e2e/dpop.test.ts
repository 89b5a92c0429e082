// DPoP end to end (RFC 9449). openid-client and oauth4webapi get DPoP-bound tokens for clients registered with
// --dpop-bound, from the shared `npm run dev` (DPOP_NONCE=required: each library retries once after use_dpop_nonce)
// and from a second one with the shipped DPOP_NONCE=off. openid-client then calls the example resource server Worker
// (examples/resource-server/, under `wrangler dev`) and a resource server in this process built on the same verifier:
// the bound token with the library's proof passes; the same proof again, the token as Bearer, or a proof by another
// key are refused (by reason code in this process, by status and challenge from the Worker).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createVerifier, responseFor, TokenServiceError } from "../../src/resource-server/index";
import { getDpopTokenWithOauth4webapi } from "./examples/oauth4webapi-dpop";
import { getDpopTokenWithOpenidClient } from "./examples/openid-client-dpop";
import { verifyAccessToken } from "./examples/verify-access-token";
import { addClient, writeSigningKeysEnvFile } from "./support/cli";
import { type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";
import { type DevServer, startDevServer } from "./support/dev-server";
import { type ExampleResourceServer, startExampleResourceServer } from "./support/example-resource-server";
import { withAuditLines } from "./support/server-audit";

const SCOPE = "read";
const AUDIENCE = "https://api.example.test";
const CLIENT_IDS = ["e2e-dpop-openid-client", "e2e-dpop-oauth4webapi"] as const;

interface TokenServer {
  name: string;
  issuer: string;
  persistTo: string;
  serverLog: string;
  /** Token requests per token: 2 when the first proof is refused for want of a nonce. */
  requestsPerToken: number;
}

const shared: TokenServer = {
  name: "DPOP_NONCE=required",
  issuer: inject("issuer"),
  persistTo: inject("persistTo"),
  serverLog: inject("serverLog"),
  requestsPerToken: 2,
};
// Filled in by beforeAll: a second server with the shipped configuration.
const withoutNonces: TokenServer = {
  name: "DPOP_NONCE=off",
  issuer: "",
  persistTo: "",
  serverLog: "",
  requestsPerToken: 1,
};

let folder: string;
let ownServer: DevServer | undefined;
let example: ExampleResourceServer | undefined;
const keys = new Map<string, ClientKey>();

/** A resource server in this process: GET /orders needs `read`; refusals are kept by reason code. */
let resourceServer: Server;
let resourceUrl: URL;
const refusals: string[] = [];
/** The last DPoP header the resource server received, to replay it. */
let lastProof = "";

async function registerDpopClients(server: TokenServer): Promise<void> {
  for (const clientId of CLIENT_IDS) {
    const jwks = await writePublicJwks(folder, clientId, [keys.get(clientId)!]);
    await addClient(server.persistTo, clientId, jwks, ["--scope", SCOPE, "--audience", AUDIENCE, "--dpop-bound"]);
  }
}

function startResourceServer(issuer: string): Promise<void> {
  const verifier = createVerifier({ issuer, audience: AUDIENCE });
  resourceServer = createServer(async (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const v of Array.isArray(value) ? value : [value ?? ""]) headers.append(name, v);
    }
    lastProof = headers.get("DPoP") ?? "";
    let response: Response;
    try {
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers });
      const token = await verifier.verify(request, { requiredScopes: [SCOPE] });
      response = Response.json({ client_id: token.clientId, jkt: token.jkt });
    } catch (err) {
      if (err instanceof TokenServiceError) refusals.push(err.reason);
      response = responseFor(err);
    }
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      answerHeaders[name] = value;
    });
    res.writeHead(response.status, answerHeaders);
    res.end(await response.text());
  });
  return new Promise((resolve) => resourceServer.listen(0, "127.0.0.1", resolve));
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-dpop-"));
  for (const clientId of CLIENT_IDS) keys.set(clientId, await generateClientKey("ES256"));
  await registerDpopClients(shared);

  withoutNonces.persistTo = join(folder, "state");
  withoutNonces.serverLog = join(folder, "server.log");
  const envFile = await writeSigningKeysEnvFile(folder, { DPOP_NONCE_SECRET: randomBytes(32).toString("base64url") });
  ownServer = await startDevServer({ persistTo: withoutNonces.persistTo, envFile, logFile: withoutNonces.serverLog });
  withoutNonces.issuer = ownServer.issuer;
  await registerDpopClients(withoutNonces);

  await startResourceServer(shared.issuer);
  resourceUrl = new URL(`http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/orders`);
  example = await startExampleResourceServer({
    issuer: shared.issuer,
    audience: AUDIENCE,
    persistTo: join(folder, "example-state"),
  });
});

afterAll(async () => {
  await example?.stop();
  await ownServer?.stop();
  await new Promise((resolve) => (resourceServer ? resourceServer.close(resolve) : resolve(undefined)));
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function thumbprintOf(keyPair: CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

/** What the server's audit lines say of one exchange: the refusal for want of a nonce, if any, then the token. */
function expectedOutcomes(server: TokenServer): string[] {
  return server.requestsPerToken === 2 ? ["dpop_nonce_invalid", "issued"] : ["issued"];
}

describe.each([shared, withoutNonces])("a --dpop-bound client, $name", (server) => {
  it("gets a DPoP token with openid-client, bound to the library's key", async () => {
    const clientId = "e2e-dpop-openid-client";
    const key = keys.get(clientId)!;
    const dpopKeyPair = await client.randomDPoPKeyPair("ES256");
    const { result, audit } = await withAuditLines(server.serverLog, server.requestsPerToken, () =>
      getDpopTokenWithOpenidClient({
        issuer: server.issuer,
        clientId,
        privateKey: key.privateKey,
        kid: key.kid,
        dpopKeyPair,
        scope: SCOPE,
      }),
    );
    expect(audit.map((line) => line.reason ?? line.outcome)).toEqual(expectedOutcomes(server));
    expect(result.tokens.token_type).toMatch(/^dpop$/i);
    const { payload } = await verifyAccessToken(server.issuer, result.tokens.access_token, AUDIENCE);
    expect(payload.cnf).toEqual({ jkt: await thumbprintOf(dpopKeyPair) });
  });

  it("gets a DPoP token with oauth4webapi, bound to the library's key", async () => {
    const clientId = "e2e-dpop-oauth4webapi";
    const key = keys.get(clientId)!;
    const dpopKeyPair = await generateKeyPair("ES256");
    const { result, audit } = await withAuditLines(server.serverLog, server.requestsPerToken, () =>
      getDpopTokenWithOauth4webapi({
        issuer: server.issuer,
        clientId,
        privateKey: key.privateKey,
        kid: key.kid,
        dpopKeyPair,
        scope: SCOPE,
      }),
    );
    expect(audit.map((line) => line.reason ?? line.outcome)).toEqual(expectedOutcomes(server));
    expect(audit.at(-1)).toMatchObject({ client_id: clientId, dpop_jkt: await thumbprintOf(dpopKeyPair) });
    expect(audit.at(-1)).toMatchObject({ token_type: "DPoP" });
    expect(result.token_type).toMatch(/^dpop$/i);
    const { payload } = await verifyAccessToken(server.issuer, result.access_token, AUDIENCE);
    expect(payload.cnf).toEqual({ jkt: await thumbprintOf(dpopKeyPair) });
  });

  it("gets no Bearer token: a library that sends no proof is refused with invalid_dpop_proof", async () => {
    const clientId = "e2e-dpop-openid-client";
    const key = keys.get(clientId)!;
    const config = await client.discovery(
      new URL(server.issuer),
      clientId,
      undefined,
      client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
      { algorithm: "oauth2", execute: [client.allowInsecureRequests] },
    );
    const { result, audit } = await withAuditLines(server.serverLog, 1, () =>
      client.clientCredentialsGrant(config, { scope: SCOPE }).catch((err: unknown) => err),
    );
    expect(result).toMatchObject({ error: "invalid_dpop_proof" });
    expect(audit.map((line) => line.reason)).toEqual(["dpop_proof_required"]);
  });
});

describe("resource servers built on the verifier", () => {
  /** A DPoP token from the shared server for openid-client, and the library's handle that signs proofs with its key. */
  async function boundToken() {
    const clientId = "e2e-dpop-openid-client";
    const key = keys.get(clientId)!;
    const dpopKeyPair = await client.randomDPoPKeyPair("ES256");
    const got = await getDpopTokenWithOpenidClient({
      issuer: shared.issuer,
      clientId,
      privateKey: key.privateKey,
      kid: key.kid,
      dpopKeyPair,
      scope: SCOPE,
    });
    // openid-client throws on a 401 with a challenge: take its response, the answer the resource server gave.
    const call = (url: URL, handle = got.DPoP) =>
      client
        .fetchProtectedResource(got.config, got.tokens.access_token, url, "GET", undefined, undefined, {
          DPoP: handle,
        })
        .catch((err: unknown) => {
          if (err instanceof client.WWWAuthenticateChallengeError) return err.response;
          throw err;
        });
    return { ...got, clientId, dpopKeyPair, call };
  }

  it("in this process: accepts the bound token with openid-client's proof; refuses a replay, Bearer use, another key", async () => {
    const { config, tokens, clientId, dpopKeyPair, call } = await boundToken();
    const answer = await call(resourceUrl);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ client_id: clientId, jkt: await thumbprintOf(dpopKeyPair) });

    refusals.length = 0;
    const replayed = await fetch(resourceUrl, {
      headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: lastProof },
    });
    expect(replayed.status).toBe(401);
    const bearer = await fetch(resourceUrl, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get("WWW-Authenticate")).toMatch(/^DPoP /);
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
    const stolen = await call(resourceUrl, other);
    expect(stolen.status).toBe(401);
    expect(refusals).toEqual(["dpop_replayed", "rs_token_bound_needs_dpop", "rs_dpop_key_mismatch"]);
  });

  it("the example Worker: accepts the bound token with openid-client's proof; refuses a replay, Bearer use, another key", async () => {
    const hello = new URL("/hello", example!.origin);
    const { config, tokens, clientId, call } = await boundToken();
    // Keep the proofs openid-client sends, to replay one.
    const proofsSent: string[] = [];
    config[client.customFetch] = (url, options) => {
      const proof = new Headers(options.headers).get("dpop");
      if (proof) proofsSent.push(proof);
      return fetch(url, options as RequestInit);
    };
    const answer = await call(hello);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ hello: clientId, scope: [SCOPE], dpop_bound: true });

    const replayed = await fetch(hello, {
      headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: proofsSent.at(-1)! },
    });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get("WWW-Authenticate")).toMatch(/^DPoP error="invalid_dpop_proof"/);
    const bearer = await fetch(hello, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get("WWW-Authenticate")).toMatch(/^DPoP error="invalid_token"/);
    const stolen = await call(hello, client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256")));
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get("WWW-Authenticate")).toMatch(/^DPoP error="invalid_token"/);
  });
});
