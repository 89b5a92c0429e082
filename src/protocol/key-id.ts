// The identity of a client key across the service: its `kid`, or, for a key registered without one, its RFC 7638
// JWK thumbprint (SHA-256, base64url). Access tokens carry it (claim `client_key`) and retirement names it. Hashing
// only: no I/O, no clock.
import { calculateJwkThumbprint, type JWK } from "jose";

export async function keyIdOf(jwk: { kid?: unknown } & Record<string, unknown>): Promise<string> {
  if (typeof jwk.kid === "string" && jwk.kid !== "") return jwk.kid;
  return calculateJwkThumbprint(jwk as JWK, "sha256");
}
