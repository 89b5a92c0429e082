// The DPoP step of POST /token (RFC 9449 section 5): with a `DPoP` header, the proof is checked against this endpoint
// (POST, the configured token endpoint URL, the iat window, the server nonce when DPOP_NONCE is "required") and the
// token will be bound to its key; without one, any client under PROFILE=fapi2 is refused here. A client whose record
// sets dpop_bound_access_tokens is refused by its authority (spend-jti.ts), which holds the current record: a cached
// one may be stale either way. Spending the proof's jti is left to spend-jti.ts, with the assertion's.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { currentNonce, requireCurrentNonce } from "../dpop/nonce";
import { verifyDpopProof } from "../dpop/proof";
import { TokenServiceError } from "../protocol/errors";

/** The DPoP-Nonce header to send with an answer, when nonces are in use. */
export async function nonceHeader(c: Context<AppEnv>): Promise<Record<string, string>> {
  const { nonceRequired, nonceSecret } = c.get("config").dpop;
  if (!nonceRequired || nonceSecret === undefined) return {};
  return { "DPoP-Nonce": await currentNonce(nonceSecret, c.get("now")) };
}

export const checkDpop: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const value = c.req.header("DPoP");
  if (value === undefined) {
    if (config.dpop.requiredForAll) throw new TokenServiceError("dpop_proof_required", "PROFILE=fapi2");
    return next();
  }
  const proof = await verifyDpopProof(value, {
    algorithms: config.algorithms,
    method: "POST",
    uri: config.tokenEndpoint,
    now: c.get("now"),
    maxAgeSeconds: config.dpop.proofMaxAge,
    skewSeconds: config.clockSkew,
  });
  const { nonceRequired, nonceSecret } = config.dpop;
  if (nonceRequired && nonceSecret !== undefined) await requireCurrentNonce(nonceSecret, proof.nonce, c.get("now"));
  c.set("dpop", proof);
  c.get("audit").dpop_jkt = proof.jkt;
  await next();
};
