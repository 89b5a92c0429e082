// The signing keys of a federated trust's issuer: the static set in the trust (an issuer nobody can reach, such as a
// private cluster's), or the set its OIDC discovery document names. The document (`<issuer>/.well-known/openid-
// configuration`) must state the same `issuer`; its `jwks_uri` must pass the same host policy as a client's, and is
// then fetched, cached and refreshed by registry/remote-jwks.ts with every bound a client's jwks_uri has. Documents are
// cached per isolate for their clamped max-age, one fetch in flight per issuer, a cooldown after a failure. Never
// fetches a URL taken from a token: the issuer is the trust's, and the token's `iss` only selected it.
import { BoundedCache } from "../lib/bounded-cache";
import { SharedFlights } from "../lib/shared-flights";
import { JWKS_URI, LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { FEDERATION } from "../protocol/federation";
import type { ClientJwk } from "../protocol/jwk";
import { isJwksUri, isLoopbackHost, jwksUriProblem } from "../protocol/syntax";
import { fetchBoundedJson } from "../registry/bounded-fetch";
import type { FederatedTrust } from "../registry/federated-trust";
import { freshSeconds, type RemoteJwksOptions, remoteClientKeys } from "../registry/remote-jwks";

interface Discovered {
  jwksUri: string;
  fetchedAtMs: number;
  freshUntilMs: number;
}

const documents = new BoundedCache<string, Discovered>(JWKS_URI.cacheEntries);
const failures = new BoundedCache<string, number>(JWKS_URI.cacheEntries);
const FLIGHT_BOUND_MS = JWKS_URI.fetchTimeoutMs + JWKS_URI.inflightGraceMs;
const inflight = new SharedFlights<string, Discovered>(
  JWKS_URI.cacheEntries,
  FLIGHT_BOUND_MS,
  () => new Error(`no discovery document within ${FLIGHT_BOUND_MS} ms`),
);
const COOLDOWN_MS = JWKS_URI.unknownKidCooldownSeconds * 1000;

/** OpenID Connect Discovery 1.0 section 4: the document's URL under the issuer. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
}

/** The jwks_uri a discovery document names, once its issuer is the one expected and the URI passes the host policy. */
export function jwksUriFromDiscovery(body: unknown, issuer: string): string {
  const document = body as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (typeof document !== "object" || document === null) throw new Error("discovery document is not an object");
  if (document.issuer !== issuer) throw new Error("discovery document names another issuer");
  const problem = jwksUriProblem(document.jwks_uri);
  if (problem !== null) throw new Error(`discovery jwks_uri ${problem}`);
  return document.jwks_uri as string;
}

async function discover(issuer: string, options: RemoteJwksOptions): Promise<Discovered> {
  const { body, cacheControl } = await fetchBoundedJson(discoveryUrl(issuer), {
    timeoutMs: JWKS_URI.fetchTimeoutMs,
    maxBytes: FEDERATION.maxDiscoveryBytes,
    accept: "application/json",
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
  });
  const discovered = {
    jwksUri: jwksUriFromDiscovery(body, issuer),
    fetchedAtMs: options.nowMs,
    freshUntilMs: options.nowMs + freshSeconds(cacheControl) * 1000,
  };
  documents.set(issuer, discovered);
  failures.delete(issuer);
  return discovered;
}

function unavailable(detail: string): TokenServiceError {
  return new TokenServiceError("federated_issuer_unavailable", detail.slice(0, LIMITS.maxLogDetailLength));
}

/** The issuer's jwks_uri, from the cached document or a new discovery (none within a cooldown of a failed one). */
async function issuerJwksUri(issuer: string, options: RemoteJwksOptions): Promise<string> {
  if (!isJwksUri(issuer) || (isLoopbackHost(new URL(issuer).hostname) && !options.allowInsecure))
    throw unavailable("issuer not allowed (loopback needs ALLOW_INSECURE_JWKS_URI)");
  const known = documents.get(issuer);
  if (known && options.nowMs < known.freshUntilMs) return known.jwksUri;
  // While discovery fails, the jwks_uri it last named is used for as long as a stale key set may be served.
  const cached = known && options.nowMs - known.fetchedAtMs < JWKS_URI.maxStaleSeconds * 1000 ? known : undefined;
  const failedAtMs = failures.get(issuer);
  if (failedAtMs !== undefined && options.nowMs - failedAtMs < COOLDOWN_MS) {
    if (cached) return cached.jwksUri;
    throw unavailable("the last discovery failed; none until the cooldown has passed");
  }
  try {
    return (await inflight.join(issuer, options.nowMs, () => discover(issuer, options))).jwksUri;
  } catch (err) {
    failures.set(issuer, options.nowMs);
    // A document that named a jwks_uri once still does: keep using it while the discovery is down.
    if (cached) return cached.jwksUri;
    throw unavailable(err instanceof Error ? err.message : "discovery failed");
  }
}

/**
 * The trust's issuer keys. `refetch` asks for a fresh set because no key verified: honoured at most once per cooldown
 * (registry/remote-jwks.ts), so a storm of unknown kids costs at most one fetch per cooldown. `refreshed` says the set
 * is as fresh as it can be (a static set always is), so a caller does not ask again.
 */
export async function issuerKeys(
  trust: FederatedTrust,
  options: RemoteJwksOptions,
  refetch = false,
): Promise<{ keys: ClientJwk[]; refreshed: boolean }> {
  if (trust.jwks) return { keys: trust.jwks.keys, refreshed: true };
  const jwksUri = await issuerJwksUri(trust.issuer, options);
  try {
    return await remoteClientKeys(jwksUri, options, refetch);
  } catch (err) {
    if (err instanceof TokenServiceError && err.reason === "jwks_uri_unavailable") throw unavailable(err.detail ?? "");
    throw err;
  }
}
