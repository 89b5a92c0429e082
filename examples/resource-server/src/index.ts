// A resource server Worker that protects GET /hello with the verifier: it accepts only access tokens the configured
// ISSUER signed for its AUDIENCE with the `read` scope, Bearer or DPoP-bound with a matching proof, and answers every
// refusal with responseFor (status, JSON error, WWW-Authenticate). With a DPOP_NONCE_SECRET it requires DPoP server
// nonces (RFC 9449 section 9) and sends the current one as DPoP-Nonce. With INTROSPECTION_CLIENT_ID and
// INTROSPECTION_PRIVATE_KEY it checks each token online too, at the issuer's introspection endpoint; without them it
// stays offline. It never logs or echoes the token or the key.

import { createVerifier, responseFor, type Verifier, type VerifierOptions } from "edge-token-service/resource-server";
import { Hono } from "hono";

interface Env {
  /** The authorization server's issuer (an https origin): its keys are read from <ISSUER>/.well-known/jwks.json. */
  ISSUER: string;
  /** This resource server's audience, exactly as the tokens' `aud` names it. */
  AUDIENCE: string;
  /** Optional secret (at least 32 characters): when set, every DPoP proof must carry a nonce this server issued. */
  DPOP_NONCE_SECRET?: string;
  /** Online mode: this resource server's client_id at the issuer (registered with `--introspect`). */
  INTROSPECTION_CLIENT_ID?: string;
  /** Online mode: that client's private key, a private JWK as JSON with its `alg` (a secret). */
  INTROSPECTION_PRIVATE_KEY?: string;
  /** Online mode: seconds an introspection answer is reused (0 to 60, default 5). */
  INTROSPECTION_CACHE_SECONDS?: string;
}

/** Online mode when both its variables are set; a bad key or cache value fails the verifier's creation (a 500). */
function introspectionFor(env: Env): VerifierOptions["introspection"] {
  const { INTROSPECTION_CLIENT_ID: clientId, INTROSPECTION_PRIVATE_KEY: privateKey } = env;
  if (!clientId || !privateKey) return undefined;
  const cacheSeconds = env.INTROSPECTION_CACHE_SECONDS;
  return {
    clientId,
    privateKey: JSON.parse(privateKey),
    ...(cacheSeconds ? { cacheSeconds: Number(cacheSeconds) } : {}),
  };
}

/** One verifier per isolate: its JWKS cache, DPoP proof replay cache and introspection cache live as long as it. */
let current: { config: string; verifier: Verifier } | undefined;

function verifierFor(env: Env): Verifier {
  const secret = env.DPOP_NONCE_SECRET;
  const config = JSON.stringify([
    env.ISSUER,
    env.AUDIENCE,
    secret,
    env.INTROSPECTION_CLIENT_ID,
    env.INTROSPECTION_PRIVATE_KEY,
    env.INTROSPECTION_CACHE_SECONDS,
  ]);
  if (current?.config !== config) {
    const introspection = introspectionFor(env);
    const options: VerifierOptions = {
      issuer: env.ISSUER,
      audience: env.AUDIENCE,
      ...(secret ? { dpopNonceSecret: secret } : {}),
      ...(introspection ? { introspection } : {}),
    };
    current = { config, verifier: createVerifier(options) };
  }
  return current.verifier;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/hello", async (c) => {
  const token = await verifierFor(c.env).verify(c.req.raw, { requiredScopes: ["read"] });
  // RFC 9449 section 9: the nonce for the client's next proof (a refusal carries it too, set by responseFor).
  if (token.dpopNonce !== undefined) c.header("DPoP-Nonce", token.dpopNonce);
  return c.json({
    hello: token.clientId,
    scope: token.scope,
    dpop_bound: token.jkt !== undefined,
    // Online mode only, so an offline answer stays as it was.
    ...(token.introspected ? { introspected: true } : {}),
  });
});

// A refusal from verify() becomes its RFC 6750 / RFC 9449 answer; anything else a 500 that says nothing.
app.onError((err) => responseFor(err));

export default app;
