// What a resource server answers when verification fails: the WWW-Authenticate challenge built from the reason (RFC 6750
// section 3 for Bearer, RFC 9449 section 7.1 for DPoP, with `algs`, and `scope` on insufficient_scope), and responseFor,
// the JSON error response carrying it. Fixed descriptions only: it never echoes the token or the request. No I/O.
import { ASSERTION_ALGORITHMS } from "../protocol/constants";
import { type Reason, TokenServiceError } from "../protocol/errors";
import { type WireError, wireErrorFor } from "../protocol/wire-errors";
import type { TokenScheme } from "./authorization";

export interface ChallengeContext {
  /** The scheme the request used, once known. */
  scheme?: TokenScheme;
  /** The DPoP proof algorithms accepted (the challenge's `algs`). */
  dpopAlgorithms: readonly string[];
  /** The scopes the resource required (the challenge's `scope` on insufficient_scope). */
  requiredScopes?: readonly string[];
}

/**
 * A reason as a resource server answers it. RFC 9449 section 7.1: a DPoP failure is 401 here (400 is the token
 * endpoint's); section 9: so is use_dpop_nonce, whose description names the resource server.
 */
function resourceWireErrorFor(reason: Reason): WireError {
  const wire = wireErrorFor(reason);
  if (reason === "dpop_nonce_invalid") {
    return { status: 401, error: wire.error, description: "Resource server requires nonce in DPoP proof" };
  }
  return wire.error === "invalid_dpop_proof" ? { ...wire, status: 401 } : wire;
}

/** The scheme the client must use next: DPoP for a proof, nonce or binding problem, Bearer for an unbound token. */
function schemeFor(reason: Reason, presented: TokenScheme | undefined): TokenScheme | undefined {
  if (reason === "rs_token_not_bound") return "Bearer";
  if (reason === "rs_token_bound_needs_dpop" || reason === "rs_dpop_key_mismatch") return "DPoP";
  const { error } = wireErrorFor(reason);
  if (error === "invalid_dpop_proof" || error === "use_dpop_nonce") return "DPoP";
  return presented;
}

/** The WWW-Authenticate value for a refusal, or undefined when the status takes none (a 503). */
export function challengeFor(reason: Reason, context: ChallengeContext): string | undefined {
  const wire = resourceWireErrorFor(reason);
  if (wire.status !== 400 && wire.status !== 401 && wire.status !== 403) return undefined;
  const algs = `algs="${context.dpopAlgorithms.join(" ")}"`;
  // RFC 6750 section 3.1: no error code for a request that carried no (usable) authentication; both schemes offered.
  if (reason === "rs_token_missing") return `Bearer, DPoP ${algs}`;
  const params = [`error="${wire.error}"`, `error_description="${wire.description}"`];
  if (wire.error === "insufficient_scope" && context.requiredScopes?.length) {
    params.push(`scope="${context.requiredScopes.join(" ")}"`);
  }
  const scheme = schemeFor(reason, context.scheme);
  if (scheme === "DPoP") return `DPoP ${[...params, algs].join(", ")}`;
  if (scheme === "Bearer") return `Bearer ${params.join(", ")}`;
  // The Authorization header could not be read: the error as a Bearer challenge, and DPoP offered beside it.
  return `Bearer ${params.join(", ")}, DPoP ${algs}`;
}

/** The error with its challenge attached (as a response header), for responseFor. */
export function withChallenge(error: TokenServiceError, context: ChallengeContext): TokenServiceError {
  const challenge = challengeFor(error.reason, context);
  const headers = challenge === undefined ? error.headers : { ...error.headers, "WWW-Authenticate": challenge };
  return new TokenServiceError(error.reason, error.detail, {
    ...(headers ? { headers } : {}),
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    cause: error.cause ?? error,
  });
}

/**
 * The response for an error verify() threw: the status, a JSON body `{error, error_description}` with a fixed
 * description, the WWW-Authenticate challenge and the error's own headers (DPoP-Nonce on use_dpop_nonce). Anything
 * that is not a TokenServiceError is a 500 that says nothing.
 */
export function responseFor(error: unknown): Response {
  const headers: Record<string, string> = {
    "Content-Type": "application/json;charset=UTF-8",
    "Cache-Control": "no-store",
  };
  if (!(error instanceof TokenServiceError)) {
    const body = { error: "server_error", error_description: "Unexpected server error" };
    return new Response(JSON.stringify(body), { status: 500, headers });
  }
  const wire = resourceWireErrorFor(error.reason);
  const challenge = challengeFor(error.reason, { dpopAlgorithms: ASSERTION_ALGORITHMS });
  if (challenge !== undefined) headers["WWW-Authenticate"] = challenge;
  Object.assign(headers, error.headers);
  if (wire.status === 503) headers["Retry-After"] = String(error.retryAfterSeconds ?? 1);
  return new Response(JSON.stringify({ error: wire.error, error_description: wire.description }), {
    status: wire.status,
    headers,
  });
}
