// A resource server Worker that protects GET /hello with the verifier: it accepts only access tokens the configured
// ISSUER signed for its AUDIENCE with the `read` scope, Bearer or DPoP-bound with a matching proof, and answers every
// refusal with responseFor (status, JSON error, WWW-Authenticate). It never logs or echoes the token.

import { createVerifier, responseFor, type Verifier } from "edge-token-service/resource-server";
import { Hono } from "hono";

interface Env {
  /** The authorization server's issuer (an https origin): its keys are read from <ISSUER>/.well-known/jwks.json. */
  ISSUER: string;
  /** This resource server's audience, exactly as the tokens' `aud` names it. */
  AUDIENCE: string;
}

/** One verifier per isolate: its JWKS cache and its DPoP proof replay cache live as long as the isolate. */
let current: { config: string; verifier: Verifier } | undefined;

function verifierFor(env: Env): Verifier {
  const config = `${env.ISSUER} ${env.AUDIENCE}`;
  if (current?.config !== config) {
    current = { config, verifier: createVerifier({ issuer: env.ISSUER, audience: env.AUDIENCE }) };
  }
  return current.verifier;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/hello", async (c) => {
  const token = await verifierFor(c.env).verify(c.req.raw, { requiredScopes: ["read"] });
  return c.json({ hello: token.clientId, scope: token.scope, dpop_bound: token.jkt !== undefined });
});

// A refusal from verify() becomes its RFC 6750 / RFC 9449 answer; anything else a 500 that says nothing.
app.onError((err) => responseFor(err));

export default app;
