// RFC 8414 authorization server metadata (also served as OpenID Connect discovery).
// A pure document built from Config and the signing key set; no secrets, no I/O.

import type { Config } from "../config";
import { JWT_BEARER_GRANT } from "../protocol/federation";
import type { SigningKeySet } from "./signing-keys";

export function serverMetadata(config: Config, keys: SigningKeySet): Record<string, unknown> {
  return {
    issuer: config.issuer,
    token_endpoint: config.tokenEndpoint,
    jwks_uri: config.jwksUri,
    // The jwt-bearer grant (RFC 7523 section 2.1) serves federated clients only (docs/federation.md).
    grant_types_supported: ["client_credentials", JWT_BEARER_GRANT],
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
