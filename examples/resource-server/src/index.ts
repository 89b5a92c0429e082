// A resource server Worker that protects GET /hello with the verifier: it accepts only access tokens the configured
// ISSUER signed for its AUDIENCE with the `read` scope, Bearer or DPoP-bound with a matching proof, and answers every
// refusal with responseFor (status, JSON error, WWW-Authenticate). With a DPOP_NONCE_SECRET it requires DPoP server
// nonces (RFC 9449 section 9) and sends the current one as DPoP-Nonce. It never logs or echoes the token.

import { createVerifier, responseFor, type Verifier } from "edge-token-service/resource-server";
import { Hono } from "hono";

interface Env {
  /** The authorization server's issuer (an https origin): its keys are read from <ISSUER>/.well-known/jwks.json. */
  ISSUER: string;
  /** This resource server's audience, exactly as the tokens' `aud` names it. */
  AUDIENCE: string;
  /** Optional secret (at least 32 characters): when set, every DPoP proof must carry a nonce this server issued. */
  DPOP_NONCE_SECRET?: string;
}

/** One verifier per isolate: its JWKS cache and its DPoP proof replay cache live as long as the isolate. */
let current: { config: string; verifier: Verifier } | undefined;

function verifierFor(env: Env): Verifier {
  const secret = env.DPOP_NONCE_SECRET;
  const config = `${env.ISSUER} ${env.AUDIENCE} ${secret ?? ""}`;
  if (current?.config !== config) {
    const options = { issuer: env.ISSUER, audience: env.AUDIENCE, ...(secret ? { dpopNonceSecret: secret } : {}) };
    current = { config, verifier: createVerifier(options) };
  }
  return current.verifier;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/hello", async (c) => {
  const token = await verifierFor(c.env).verify(c.req.raw, { requiredScopes: ["read"] });
  // RFC 9449 section 9: the nonce for the client's next proof (a refusal carries it too, set by responseFor).
  if (token.dpopNonce !== undefined) c.header("DPoP-Nonce", token.dpopNonce);
  return c.json({ hello: token.clientId, scope: token.scope, dpop_bound: token.jkt !== undefined });
});

// A refusal from verify() becomes its RFC 6750 / RFC 9449 answer; anything else a 500 that says nothing.
app.onError((err) => responseFor(err));

export default app;
