// RFC 8414 authorization server metadata (also served as OpenID Connect discovery).
// A pure document built from Config and the signing key set; no secrets, no I/O.

import type { Config } from "../config";
import type { SigningKeySet } from "./signing-keys";

export function serverMetadata(config: Config, keys: SigningKeySet): Record<string, unknown> {
  return {
    issuer: config.issuer,
    token_endpoint: config.tokenEndpoint,
    jwks_uri: config.jwksUri,
    grant_types_supported: ["client_credentials"],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ["private_key_jwt"],
    token_endpoint_auth_signing_alg_values_supported: [...config.algorithms],
    // RFC 7009 and RFC 7662: the caller authenticates exactly as at the token endpoint.
    revocation_endpoint: config.revocationEndpoint,
    revocation_endpoint_auth_methods_supported: ["private_key_jwt"],
    revocation_endpoint_auth_signing_alg_values_supported: [...config.algorithms],
    introspection_endpoint: config.introspectionEndpoint,
    introspection_endpoint_auth_methods_supported: ["private_key_jwt"],
    introspection_endpoint_auth_signing_alg_values_supported: [...config.algorithms],
    // RFC 9449 section 5.1: DPoP is supported, with these proof algorithms.
    dpop_signing_alg_values_supported: [...config.algorithms],
    // Access tokens are RFC 9068 JWTs; advertised so resource servers know what to expect.
    access_token_signing_alg_values_supported: [...new Set(keys.publicJwks.keys.map((k) => k.alg as string))],
  };
}
