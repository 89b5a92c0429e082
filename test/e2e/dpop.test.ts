// DPoP end to end (RFC 9449): openid-client and oauth4webapi get DPoP-bound tokens from `npm run dev` for clients
// registered with --dpop-bound, each retrying once after use_dpop_nonce (the shared server requires nonces), and
// openid-client then calls a resource server in this process that checks the token with the package's verifier
// (edge-token-service/resource-server): the bound token with the library's proof passes; the same proof again, the
// token as Bearer, or a proof by another key are refused, each by its reason code.

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
import { addClient } from "./support/cli";
import { type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";
import { withAuditLines } from "./support/server-audit";

const issuer = inject("issuer");
const persistTo = inject("persistTo");
const serverLog = inject("serverLog");
const SCOPE = "orders.read";
const AUDIENCE = "https://api.example.test";

let folder: string;
const keys = new Map<string, ClientKey>();

/** A resource server on a loopback port: GET /orders needs the `orders.read` scope; refusals are kept by reason. */
let resourceServer: Server;
let resourceUrl: URL;
const refusals: string[] = [];
/** The last DPoP header the resource server received, to replay it. */
let lastProof = "";
const verifier = createVerifier({ issuer, audience: AUDIENCE });

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-dpop-"));
  for (const clientId of ["e2e-dpop-openid-client", "e2e-dpop-oauth4webapi"]) {
    const key = await generateClientKey("ES256");
    keys.set(clientId, key);
    const jwks = await writePublicJwks(folder, clientId, [key]);
    await addClient(persistTo, clientId, jwks, ["--scope", SCOPE, "--audience", AUDIENCE, "--dpop-bound"]);
  }
  resourceServer = createServer(async (req, res) => {
    const url = `http://${req.headers.host}${req.url}`;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const v of Array.isArray(value) ? value : [value ?? ""]) headers.append(name, v);
    }
    lastProof = headers.get("DPoP") ?? "";
    let response: Response;
    try {
      const token = await verifier.verify(new Request(url, { method: req.method, headers }), {
        requiredScopes: [SCOPE],
      });
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
  await new Promise<void>((resolve) => resourceServer.listen(0, "127.0.0.1", resolve));
  resourceUrl = new URL(`http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/orders`);
});

afterAll(async () => {
  await new Promise((resolve) => resourceServer?.close(resolve));
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function thumbprintOf(keyPair: CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

describe("a client registered with --dpop-bound", () => {
  it("gets a DPoP token with openid-client after one use_dpop_nonce, and calls a resource server with it", async () => {
    const clientId = "e2e-dpop-openid-client";
    const key = keys.get(clientId)!;
    const dpopKeyPair = await client.randomDPoPKeyPair("ES256");
    const { result, audit } = await withAuditLines(serverLog, 2, () =>
      getDpopTokenWithOpenidClient({
        issuer,
        clientId,
        privateKey: key.privateKey,
        kid: key.kid,
        dpopKeyPair,
        scope: SCOPE,
      }),
    );
    // The first proof had no nonce: refused with use_dpop_nonce; the library retried with the server's nonce.
    expect(audit.map((line) => line.reason ?? line.outcome)).toEqual(["dpop_nonce_invalid", "issued"]);
    const { config, tokens, DPoP } = result;
    expect(tokens.token_type).toMatch(/^dpop$/i);
    const { payload } = await verifyAccessToken(issuer, tokens.access_token, AUDIENCE);
    expect(payload.cnf).toEqual({ jkt: await thumbprintOf(dpopKeyPair) });

    // openid-client signs a proof for the API call (htm, htu, ath) with the same key.
    const call = (handle: client.DPoPHandle) =>
      client.fetchProtectedResource(config, tokens.access_token, resourceUrl, "GET", undefined, undefined, {
        DPoP: handle,
      });
    const answer = await call(DPoP);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ client_id: clientId, jkt: await thumbprintOf(dpopKeyPair) });

    // The same request again, proof and all: the proof's jti is spent.
    refusals.length = 0;
    const replayed = await fetch(resourceUrl, {
      headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: lastProof },
    });
    expect(replayed.status).toBe(401);
    // The token alone, as Bearer: refused, a bound token needs its proof.
    const bearer = await fetch(resourceUrl, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get("WWW-Authenticate")).toMatch(/^DPoP /);
    // A proof by another key than the one the token is bound to: refused.
    const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
    const stolen = await call(other).catch((err: unknown) => err);
    expect(stolen instanceof Response ? stolen.status : (stolen as { status?: number }).status).toBe(401);
    expect(refusals).toEqual(["dpop_replayed", "rs_token_bound_needs_dpop", "rs_dpop_key_mismatch"]);
  });

  it("gets a DPoP token with oauth4webapi after one use_dpop_nonce", async () => {
    const clientId = "e2e-dpop-oauth4webapi";
    const key = keys.get(clientId)!;
    const dpopKeyPair = await generateKeyPair("ES256");
    const { result, audit } = await withAuditLines(serverLog, 2, () =>
      getDpopTokenWithOauth4webapi({
        issuer,
        clientId,
        privateKey: key.privateKey,
        kid: key.kid,
        dpopKeyPair,
        scope: SCOPE,
      }),
    );
    expect(audit.map((line) => line.reason ?? line.outcome)).toEqual(["dpop_nonce_invalid", "issued"]);
    expect(audit[1]).toMatchObject({
      client_id: clientId,
      dpop_jkt: await thumbprintOf(dpopKeyPair),
      token_type: "DPoP",
    });
    expect(result.token_type).toMatch(/^dpop$/i);
    const { payload } = await verifyAccessToken(issuer, result.access_token, AUDIENCE);
    expect(payload.cnf).toEqual({ jkt: await thumbprintOf(dpopKeyPair) });
  });

  it("gets no Bearer token: a library that sends no proof is refused with invalid_dpop_proof", async () => {
    const clientId = "e2e-dpop-openid-client";
    const key = keys.get(clientId)!;
    const config = await client.discovery(
      new URL(issuer),
      clientId,
      undefined,
      client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
      { algorithm: "oauth2", execute: [client.allowInsecureRequests] },
    );
    const { result, audit } = await withAuditLines(serverLog, 1, () =>
      client.clientCredentialsGrant(config, { scope: SCOPE }).catch((err: unknown) => err),
    );
    expect(result).toMatchObject({ error: "invalid_dpop_proof" });
    expect(audit.map((line) => line.reason)).toEqual(["dpop_proof_required"]);
  });
});
