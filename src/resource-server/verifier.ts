// createVerifier: the resource server's check of a request's access token, in order: the Authorization header
// (authorization.ts), the token's header and claims (access-token.ts), the binding rule (a cnf.jkt token only with the
// DPoP scheme, an unbound one only with Bearer), the signature by the issuer's keys (token-signature.ts), the DPoP proof
// and its key (src/dpop/proof.ts), its server nonce when nonces are on (src/dpop/nonce.ts), the required scopes, in
// online mode the issuer's introspection answer (introspection.ts), and last the proof's jti, spent once
// (proof-replay.ts). It reads the clock it was given; it never logs, and never copies the token into an error.
import { currentNonce, requireCurrentNonce } from "../dpop/nonce";
import { type VerifiedProof, verifyDpopProof } from "../dpop/proof";
import { accessTokenHash } from "../dpop/signature";
import { TokenServiceError, whileAvailable } from "../protocol/errors";
import { isValidScopeToken } from "../protocol/syntax";
import { type AccessTokenClaims, checkAccessTokenClaims, decodeAccessToken } from "./access-token";
import { presentedToken } from "./authorization";
import { type ChallengeContext, withChallenge } from "./challenge";
import { createIntrospector, type Introspector } from "./introspection";
import { parseVerifierOptions, type VerifierConfig, type VerifierOptions } from "./options";
import { MemoryProofReplayStore, type ProofReplayStore } from "./proof-replay";
import { keyLookup, type TokenSignatureCheck, tokenSignatureCheck } from "./token-signature";

export interface VerifyOptions {
  /** Scopes the token must all carry; a token without one of them is refused with insufficient_scope (403). */
  requiredScopes?: readonly string[];
}

export interface VerifiedAccessToken {
  clientId: string;
  scope: string[];
  /** The verified claims set. */
  claims: Record<string, unknown>;
  /** The DPoP key thumbprint the token is bound to, when it is bound (the proof was checked against it). */
  jkt?: string;
  /**
   * The current server nonce, when nonces are on and the token is DPoP-bound: send it as `DPoP-Nonce` on the answer
   * (RFC 9449 section 9), so the client's next proof carries it.
   */
  dpopNonce?: string;
  /** In online mode: the issuer's introspection endpoint said the token is active (or said so within cacheSeconds). */
  introspected?: true;
}

export interface Verifier {
  /** Resolves with the token's client and scopes, or rejects with a TokenServiceError (render it with responseFor). */
  verify(request: Request, options?: VerifyOptions): Promise<VerifiedAccessToken>;
}

function requiredScopesOf(options: VerifyOptions | undefined): readonly string[] {
  const scopes = options?.requiredScopes ?? [];
  for (const scope of scopes) {
    if (!isValidScopeToken(scope)) throw new Error("verify: requiredScopes holds a value that is not a scope token");
  }
  return scopes;
}

/** RFC 9449 section 7.1: the binding decides the scheme. A bound token as Bearer would be a token anyone can replay. */
function checkBinding(scheme: "Bearer" | "DPoP", token: AccessTokenClaims): void {
  if (token.jkt !== undefined && scheme !== "DPoP") throw new TokenServiceError("rs_token_bound_needs_dpop");
  if (token.jkt === undefined && scheme === "DPoP") throw new TokenServiceError("rs_token_not_bound");
}

/** The proof that must come with a bound token, checked against this request and this token (RFC 9449 section 7). */
async function checkProof(request: Request, token: string, config: VerifierConfig, now: number) {
  const value = request.headers.get("DPoP");
  if (value === null) throw new TokenServiceError("rs_dpop_proof_missing");
  return verifyDpopProof(value, {
    algorithms: config.dpopAlgorithms,
    method: request.method,
    uri: request.url,
    now,
    maxAgeSeconds: config.dpopProofMaxAge,
    skewSeconds: config.clockSkew,
    accessTokenHash: await accessTokenHash(token),
  });
}

/** RFC 6750 section 3.1: every required scope, else insufficient_scope. */
function checkScopes(required: readonly string[], granted: readonly string[]): void {
  const missing = required.filter((scope) => !granted.includes(scope));
  if (missing.length > 0) throw new TokenServiceError("rs_scope_insufficient", `missing ${missing.length} scope(s)`);
}

/** RFC 9449 section 11.1: the proof's jti, spent once, kept as long as the proof could be accepted. */
async function spendProof(proof: VerifiedProof, config: VerifierConfig, replay: ProofReplayStore): Promise<void> {
  const retainUntilMs = (proof.iat + config.dpopProofMaxAge + config.clockSkew) * 1000;
  const fresh = await whileAvailable("replay_guard_unavailable", () => replay.spend(proof.jti, retainUntilMs));
  if (!fresh) throw new TokenServiceError("dpop_replayed");
}

/** The token and the claims online mode compares the answer with; checkAccessTokenClaims has checked jti and exp. */
function tokenToIntrospect(token: string, accepted: AccessTokenClaims, claims: Record<string, unknown>) {
  return { token, jti: claims.jti as string, clientId: accepted.clientId, exp: claims.exp as number };
}

interface VerifierDeps {
  signature: TokenSignatureCheck;
  replay: ProofReplayStore;
  /** Online mode only. */
  introspect: Introspector | undefined;
}

async function verifyRequest(
  request: Request,
  scopes: readonly string[],
  config: VerifierConfig,
  { signature, replay, introspect }: VerifierDeps,
  challenge: ChallengeContext,
): Promise<VerifiedAccessToken> {
  const nowMs = config.now();
  const now = Math.floor(nowMs / 1000);
  const { scheme, token } = presentedToken(request.headers);
  challenge.scheme = scheme;
  const decoded = decodeAccessToken(token, config.algorithms);
  const expected = { issuer: config.issuer, audience: config.audience, now, skewSeconds: config.clockSkew };
  const accepted = checkAccessTokenClaims(decoded.claims, expected);
  checkBinding(scheme, accepted);
  await signature(token, decoded.alg);
  const proof = accepted.jkt === undefined ? undefined : await checkProof(request, token, config, now);
  if (proof && proof.jkt !== accepted.jkt) throw new TokenServiceError("rs_dpop_key_mismatch");
  const nonceSecret = proof ? config.dpopNonceSecret : undefined;
  // RFC 9449 section 9, before the jti is spent: a client refused for its nonce retries with the same proof id.
  if (proof && nonceSecret !== undefined) await requireCurrentNonce(nonceSecret, proof.nonce, now);
  // State last: a request refused for any reason above, its scopes included, leaves its proof unspent.
  checkScopes(scopes, accepted.scope);
  // Online mode, once every offline check passed: a token the issuer refuses leaves its proof unspent too.
  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);
  if (proof) await spendProof(proof, config, replay);
  const verified: VerifiedAccessToken = { clientId: accepted.clientId, scope: accepted.scope, claims: decoded.claims };
  if (accepted.jkt !== undefined) verified.jkt = accepted.jkt;
  if (introspect) verified.introspected = true;
  if (nonceSecret !== undefined) verified.dpopNonce = await currentNonce(nonceSecret, now);
  return verified;
}

/** Checks the options once (throwing an Error that names a bad one) and returns the verifier. */
export function createVerifier(options: VerifierOptions): Verifier {
  const config = parseVerifierOptions(options);
  const deps: VerifierDeps = {
    signature: tokenSignatureCheck(keyLookup(config.jwks, config.jwksUrl)),
    replay: config.replay ?? new MemoryProofReplayStore({ now: config.now }),
    introspect: config.introspection && createIntrospector(config.introspection),
  };
  return {
    async verify(request, verifyOptions) {
      const scopes = requiredScopesOf(verifyOptions);
      const challenge: ChallengeContext = { dpopAlgorithms: config.dpopAlgorithms, requiredScopes: scopes };
      try {
        return await verifyRequest(request, scopes, config, deps, challenge);
      } catch (err) {
        throw err instanceof TokenServiceError ? withChallenge(err, challenge) : err;
      }
    },
  };
}
