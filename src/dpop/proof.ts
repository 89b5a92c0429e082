// One DPoP proof checked end to end (RFC 9449 section 4.3): decoded with its header rules (decode.ts), its claims
// against the request (claims.ts), its signature by its own key (signature.ts), and that key's thumbprint returned as
// the `jkt` a token is bound to. Used by the token endpoint and by the resource-server verifier. No storage: spending
// the proof's jti, and the server nonce, are the caller's.
import type { AssertionAlgorithm } from "../protocol/constants";
import { checkDpopClaims, type ProofExpectations } from "./claims";
import { decodeDpopProof } from "./decode";
import { jwkThumbprint, verifyDpopSignature } from "./signature";

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: `cnf.jkt`. */
  jkt: string;
  jti: string;
  iat: number;
  nonce?: string;
}

export interface ProofOptions extends ProofExpectations {
  /** The `alg` values accepted (dpop_signing_alg_values_supported). */
  algorithms: readonly AssertionAlgorithm[];
}

/** Cheap checks first (header, claims), the signature last. Throws TokenServiceError with a dpop_* reason. */
export async function verifyDpopProof(value: string, options: ProofOptions): Promise<VerifiedProof> {
  const proof = decodeDpopProof(value, options.algorithms);
  const claims = checkDpopClaims(proof.claims, options);
  await verifyDpopSignature(proof.compact, proof.jwk, proof.alg);
  return { jkt: await jwkThumbprint(proof.jwk), ...claims };
}
