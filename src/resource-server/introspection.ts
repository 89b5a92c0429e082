// Online mode of the resource-server verifier (RFC 7662): asks the issuer's introspection endpoint whether a token that
// passed every offline check is still active, authenticating as a client with private_key_jwt (RFC 7523, a new
// assertion and jti for every call), and keeps each answer per token jti until min(now + cacheSeconds, the token's exp).
// Its only I/O is that one POST, bounded by a timeout; it reads the clock it is given, caches no failure, never logs,
// and never puts the token, the assertion or the key into an error.
import { importJWK, type JWK, SignJWT } from "jose";
import { BodyNotUtf8, readBoundedText } from "../lib/bounded-body";
import { BoundedCache } from "../lib/bounded-cache";
import { SharedFlights, settleWithin } from "../lib/shared-flights";
import { hasDuplicateMembers } from "../lib/strict-json";
import { type AssertionAlgorithm, JWT_BEARER_ASSERTION_TYPE } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { RESOURCE_SERVER } from "./limits";

/** The resource server's client signing key: a private JWK (imported once, on first use) or a CryptoKey. */
export type IntrospectionKey = { kind: "jwk"; jwk: JWK } | { kind: "crypto"; key: CryptoKey };

/** The fetch online mode calls: globalThis.fetch, or the resource server's own. */
export type IntrospectionFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Online mode's configuration, as options.ts checked it. */
export interface IntrospectionConfig {
  /** The resource server's client_id at the issuer: the assertion's `iss` and `sub`, and the form's `client_id`. */
  clientId: string;
  key: IntrospectionKey;
  alg: AssertionAlgorithm;
  kid: string | undefined;
  /** The introspection endpoint. */
  endpoint: string;
  /** The assertion's `aud`: the issuer identifier. */
  audience: string;
  /** Seconds an answer is reused; 0: none is. */
  cacheSeconds: number;
  fetch: IntrospectionFetch;
}

/** A token that passed the offline checks, with the verified claims online mode compares the answer against. */
export interface TokenToIntrospect {
  token: string;
  jti: string;
  clientId: string;
  /** Seconds since the epoch. */
  exp: number;
}

/** Resolves when the issuer says the token is active; rejects with rs_token_inactive or rs_introspection_unavailable. */
export type Introspector = (token: TokenToIntrospect, nowMs: number) => Promise<void>;

type Answer = "active" | "inactive";

const TIMEOUT_MS = RESOURCE_SERVER.introspectionTimeoutMs;
const timedOut = () => unavailable(`no answer within ${TIMEOUT_MS} ms`);

function unavailable(detail: string, cause?: unknown): TokenServiceError {
  return new TokenServiceError("rs_introspection_unavailable", detail, cause === undefined ? {} : { cause });
}

const nameOf = (err: unknown) => (err instanceof Error ? err.name : typeof err);

/** The key, imported on first use and then reused; an import that failed is tried again next time. */
function signingKeyOf(key: IntrospectionKey, alg: AssertionAlgorithm): () => Promise<CryptoKey> {
  if (key.kind === "crypto") return () => Promise.resolve(key.key);
  let imported: Promise<CryptoKey> | undefined;
  return () => {
    if (!imported) {
      const pending = importJWK(key.jwk, alg, { extractable: false }) as Promise<CryptoKey>;
      pending.catch(() => {
        if (imported === pending) imported = undefined;
      });
      imported = pending;
    }
    return imported;
  };
}

/** RFC 7523 section 3: the client assertion of one call, for the issuer, with its own jti (the issuer spends it). */
function clientAssertion(config: IntrospectionConfig, key: CryptoKey, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: config.alg, typ: "JWT", ...(config.kid === undefined ? {} : { kid: config.kid }) })
    .setIssuer(config.clientId)
    .setSubject(config.clientId)
    .setAudience(config.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + RESOURCE_SERVER.introspectionAssertionLifetimeSeconds)
    .sign(key);
}

/**
 * RFC 7662 section 2.2, read strictly: anything but a 200 `application/json` object (no repeated member) with a boolean
 * `active` is no answer. An active answer whose `jti` or `client_id` is not this token's is no answer about it.
 */
async function readAnswer(response: Response, token: TokenToIntrospect): Promise<Answer> {
  const mediaType = response.headers.get("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (response.status !== 200 || mediaType !== "application/json") {
    await response.body?.cancel().catch(() => {});
    throw unavailable(response.status !== 200 ? `status ${response.status}` : "not application/json");
  }
  let text: string | null;
  try {
    text = await readBoundedText(response, RESOURCE_SERVER.maxIntrospectionResponseBytes);
  } catch (err) {
    throw unavailable(err instanceof BodyNotUtf8 ? "body not UTF-8" : `body unreadable: ${nameOf(err)}`, err);
  }
  if (text === null) throw unavailable("answer too large");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw unavailable("not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body) || hasDuplicateMembers(text)) {
    throw unavailable("not one JSON object");
  }
  const { active, jti, client_id: clientId } = body as Record<string, unknown>;
  if (typeof active !== "boolean") throw unavailable("active is not a boolean");
  if (!active) return "inactive";
  if (jti !== token.jti || clientId !== token.clientId) throw unavailable("the answer is about another token");
  return "active";
}

/** One introspection call: a new assertion, the form POST (redirects not followed), the answer read. */
async function ask(
  config: IntrospectionConfig,
  signingKey: () => Promise<CryptoKey>,
  token: TokenToIntrospect,
  nowMs: number,
): Promise<Answer> {
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  let body: string;
  try {
    const assertion = await clientAssertion(config, await signingKey(), nowMs);
    body = new URLSearchParams({
      token: token.token,
      token_type_hint: "access_token",
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
      client_id: config.clientId,
    }).toString();
  } catch (err) {
    throw unavailable(`client assertion not signed: ${nameOf(err)}`, err);
  }
  let response: Response;
  try {
    const call = config.fetch;
    response = await call(config.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body,
      redirect: "manual",
      signal,
    });
  } catch (err) {
    throw unavailable(`fetch failed: ${nameOf(err)}`, err);
  }
  return readAnswer(response, token);
}

/**
 * The introspector of one verifier. Its answers (active and inactive alike) are kept per token jti, the jti the
 * offline checks verified, for min(cacheSeconds, until exp); a failure is never kept. Verifications of the same token
 * share the call in flight, each waiting at most the timeout on its own timer; a flight older than that is presumed
 * dead (in workerd, the request that started it may have been cancelled) and replaced.
 */
export function createIntrospector(config: IntrospectionConfig): Introspector {
  const signingKey = signingKeyOf(config.key, config.alg);
  const cacheMs = config.cacheSeconds * 1000;
  const answers = new BoundedCache<string, { answer: Answer; untilMs: number }>(
    RESOURCE_SERVER.introspectionCacheEntries,
  );
  const flights = new SharedFlights<string, Answer>(RESOURCE_SERVER.introspectionCacheEntries, TIMEOUT_MS, timedOut);

  function answerFor(token: TokenToIntrospect, nowMs: number): Promise<Answer> {
    if (cacheMs === 0) return settleWithin(ask(config, signingKey, token, nowMs), TIMEOUT_MS, timedOut);
    const cached = answers.get(token.jti);
    if (cached !== undefined && nowMs < cached.untilMs) return Promise.resolve(cached.answer);
    return flights.join(token.jti, nowMs, () => {
      const untilMs = Math.min(nowMs + cacheMs, token.exp * 1000);
      return ask(config, signingKey, token, nowMs).then((answer) => {
        answers.set(token.jti, { answer, untilMs });
        return answer;
      });
    });
  }

  return async (token, nowMs) => {
    if ((await answerFor(token, nowMs)) === "inactive") throw new TokenServiceError("rs_token_inactive");
  };
}
