// The client half of the flow: find the token endpoint through RFC 8414 metadata, sign a private_key_jwt
// assertion (RFC 7523) and request a client_credentials token, with a DPoP proof (RFC 9449) when asked, retrying
// once with the server's nonce on use_dpop_nonce. Network I/O only; prints nothing.
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_ASSERTION_TYPE } from "../../src/protocol/constants";
import { CliError, describeError } from "./cli-error";
import type { AssertionSigningKey } from "./private-key-file";

/** Assertion lifetime: long enough for a slow network, well under the server's 300-second cap. */
const ASSERTION_LIFETIME_SECONDS = 60;

/** A server that has not answered by then is not going to. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface ServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri?: string;
  token_endpoint_auth_signing_alg_values_supported?: string[];
  dpop_signing_alg_values_supported?: string[];
}

/** The issuer as the server writes it: an absolute http(s) URL, a bare trailing "/" removed. */
export function normalizeIssuer(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new CliError("usage", `--issuer ${JSON.stringify(input)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new CliError("usage", "--issuer must be an http(s) URL");
  if (url.search || url.hash) throw new CliError("usage", "--issuer must not have a query or fragment");
  return input.endsWith("/") && url.pathname === "/" ? input.slice(0, -1) : input;
}

/** RFC 8414 section 3: the well-known segment goes between the host and any issuer path. */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

export interface FetchPolicy {
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts in all; only for requests that are safe to repeat (GET). */
  attempts?: number;
}

/**
 * fetch with the CLI's timeout; an unreachable server becomes a one-line CliError. A repeatable request is tried
 * again after a timeout or a network error (the failed connection is dropped, so the retry opens a new one): a busy
 * local `wrangler dev` has been seen to leave a metadata request unanswered past the timeout.
 */
export async function fetchOrExplain(url: string, init: RequestInit, policy: FetchPolicy = {}): Promise<Response> {
  const attempts = policy.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(policy.timeoutMs ?? REQUEST_TIMEOUT_MS) });
    } catch (err) {
      if (attempt < attempts) continue;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        "server_unreachable",
        `cannot reach ${url}: ${cause?.code ?? cause?.message ?? describeError(err)}`,
      );
    }
  }
}

/** Fetches and checks the metadata; its issuer must equal ours exactly (RFC 8414 section 3.3). */
export async function discoverServer(issuer: string, policy: FetchPolicy = {}): Promise<ServerMetadata> {
  const url = metadataUrl(issuer);
  const response = await fetchOrExplain(url, { headers: { accept: "application/json" } }, { attempts: 2, ...policy });
  if (!response.ok) throw new CliError("metadata_invalid", `${url} answered HTTP ${response.status}`);
  let metadata: Partial<ServerMetadata>;
  try {
    metadata = (await response.json()) as Partial<ServerMetadata>;
  } catch {
    throw new CliError("metadata_invalid", `${url} did not answer with JSON`);
  }
  if (metadata.issuer !== issuer) {
    throw new CliError(
      "metadata_invalid",
      `the server's issuer ${JSON.stringify(metadata.issuer)} is not ${JSON.stringify(issuer)}`,
    );
  }
  if (typeof metadata.token_endpoint !== "string" || !/^https?:\/\//.test(metadata.token_endpoint)) {
    throw new CliError("metadata_invalid", `${url} names no token_endpoint`);
  }
  return metadata as ServerMetadata;
}

/** A client assertion: iss = sub = client_id, aud = the issuer string, a fresh jti, one minute of life. */
export async function signClientAssertion(
  clientId: string,
  audience: string,
  key: AssertionSigningKey,
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ASSERTION_LIFETIME_SECONDS}s`)
    .sign(key.key);
}

export interface TokenRequest {
  issuer: string;
  clientId: string;
  key: AssertionSigningKey;
  scope?: string;
  resources?: string[];
  /** Sign a DPoP proof with this key and ask for a token bound to it. */
  dpop?: AssertionSigningKey;
}

/** A DPoP proof (RFC 9449 section 4.2) for a POST to `htu`: the public key in the header, a fresh jti, iat now. */
export async function signDpopProof(key: AssertionSigningKey, htu: string, nonce?: string): Promise<string> {
  const { kty, crv, n, e, x, y } = key.publicJwk;
  const jwk = Object.fromEntries(Object.entries({ kty, crv, n, e, x, y }).filter(([, v]) => v !== undefined));
  return new SignJWT({ htm: "POST", htu, ...(nonce !== undefined ? { nonce } : {}) })
    .setProtectedHeader({ alg: key.alg, typ: "dpop+jwt", jwk })
    .setJti(randomUUID())
    .setIssuedAt()
    .sign(key.key);
}

export interface TokenResponse {
  status: number;
  ok: boolean;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  metadata: ServerMetadata;
}

/** Discovers the endpoint, signs an assertion and posts the request. An error response is returned, not thrown. */
export async function requestToken(request: TokenRequest): Promise<TokenResponse> {
  const metadata = await discoverServer(request.issuer);
  const supported = metadata.token_endpoint_auth_signing_alg_values_supported;
  if (Array.isArray(supported) && !supported.includes(request.key.alg)) {
    throw new CliError(
      "metadata_invalid",
      `the server does not accept ${request.key.alg} assertions (it accepts ${supported.join(", ")})`,
    );
  }
  if (request.dpop !== undefined) {
    const dpopAlgs = metadata.dpop_signing_alg_values_supported;
    if (!Array.isArray(dpopAlgs)) throw new CliError("metadata_invalid", "the server does not support DPoP");
    if (!dpopAlgs.includes(request.dpop.alg)) {
      throw new CliError(
        "metadata_invalid",
        `the server does not accept ${request.dpop.alg} DPoP proofs (it accepts ${dpopAlgs.join(", ")})`,
      );
    }
  }
  const form = new URLSearchParams({
    grant_type: CLIENT_CREDENTIALS_GRANT,
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: await signClientAssertion(request.clientId, metadata.issuer, request.key),
  });
  if (request.scope !== undefined) form.set("scope", request.scope);
  for (const resource of request.resources ?? []) form.append("resource", resource);

  const post = async (nonce?: string) => {
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    if (request.dpop !== undefined) headers.dpop = await signDpopProof(request.dpop, metadata.token_endpoint, nonce);
    return fetchOrExplain(metadata.token_endpoint, { method: "POST", headers, body: form });
  };
  let response = await post();
  let text = await response.text();
  // RFC 9449 section 8: the server wants a nonce; the refusal spent nothing, so the same assertion goes again.
  const nonce = response.headers.get("dpop-nonce");
  if (
    request.dpop !== undefined &&
    response.status === 400 &&
    nonce !== null &&
    errorCodeOf(text) === "use_dpop_nonce"
  ) {
    response = await post(nonce);
    text = await response.text();
  }
  return parsedResponse(response, text, metadata);
}

/** The `error` member of a JSON error body, if the text is one. */
function errorCodeOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    return undefined;
  }
}

function parsedResponse(response: Response, text: string, metadata: ServerMetadata): TokenResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError("token_error_response", `the token endpoint answered HTTP ${response.status} without JSON`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new CliError(
      "token_error_response",
      `the token endpoint answered HTTP ${response.status} with a JSON ${Array.isArray(body) ? "array" : typeof body}`,
    );
  }
  return { status: response.status, ok: response.ok, body: body as Record<string, unknown>, metadata };
}
