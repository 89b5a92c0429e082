// The Worker's bindings and variables as declared in wrangler.toml (plus the SIGNING_KEYS secret).
// Types only: nothing here runs.
import type { ClientAuthority } from "./client-authority/authority";

export interface Env {
  /** Issuer identifier (an origin). */
  ISSUER: string;
  ACCESS_TOKEN_TTL?: string;
  CLOCK_SKEW?: string;
  ASSERTION_MAX_LIFETIME?: string;
  DEFAULT_AUDIENCE?: string;
  /** Seconds an isolate reuses a validated client record (0: no cache). */
  CLIENT_CACHE_TTL?: string;
  /** "true" lets a client's jwks_uri be plain http on localhost (local testing only). */
  ALLOW_INSECURE_JWKS_URI?: string;
  /** "default" or "fapi2" (docs/dpop.md). */
  PROFILE?: string;
  /** Seconds a DPoP proof's iat may lie in the past. */
  DPOP_PROOF_MAX_AGE?: string;
  /** "off" or "required": server nonces in DPoP proofs. */
  DPOP_NONCE?: string;
  /** Secret: the key server nonces are derived from (needed when DPOP_NONCE is "required"). */
  DPOP_NONCE_SECRET?: string;
  /** Secret: a JWK Set of private signing keys, the first one active. */
  SIGNING_KEYS?: string;
  /** Client registry (docs/registry.md). */
  CLIENTS: KVNamespace;
  /** Each client's authority, one object per client_id (docs/client-authority.md). */
  CLIENT_AUTHORITY: DurableObjectNamespace<ClientAuthority>;
}
