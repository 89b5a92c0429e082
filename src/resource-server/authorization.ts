// Reads the access token from a resource request (RFC 6750 section 2.1, RFC 9449 section 7.1): exactly one
// Authorization header with one credential, scheme Bearer or DPoP (case-insensitive), a bounded token68. Pure: no
// crypto, no clock; the token is never logged or copied into an error detail.

import { TokenServiceError } from "../protocol/errors";
import { RESOURCE_SERVER } from "./limits";

export type TokenScheme = "Bearer" | "DPoP";

export interface PresentedToken {
  scheme: TokenScheme;
  token: string;
}

/** RFC 9110 section 11.3 credentials: an auth-scheme, one or more spaces, a token68 (RFC 6750 section 2.1's b64token). */
const CREDENTIALS = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * The token and the scheme it came with. Two Authorization headers reach us as one value joined by a comma (Fetch
 * standard), which no single credential of these schemes contains: a comma is more than one credential.
 */
export function presentedToken(headers: Headers): PresentedToken {
  const value = headers.get("Authorization");
  // RFC 6750 section 3.1: a request without any authentication gets a challenge with no error code.
  if (value === null || value.trim() === "") throw new TokenServiceError("rs_token_missing");
  if (value.length > RESOURCE_SERVER.maxAuthorizationLength) {
    throw new TokenServiceError("rs_authorization_invalid", "Authorization header too large");
  }
  if (value.includes(",")) throw new TokenServiceError("rs_authorization_invalid", "more than one credential");
  const match = CREDENTIALS.exec(value.trim());
  if (!match) throw new TokenServiceError("rs_authorization_invalid", "not one scheme and one token68");
  const scheme = match[1]!.toLowerCase();
  const token = match[2]!;
  if (scheme === "bearer") return { scheme: "Bearer", token };
  if (scheme === "dpop") return { scheme: "DPoP", token };
  // Another scheme (Basic, say): as good as no authentication for this resource (RFC 6750 section 3.1).
  throw new TokenServiceError("rs_token_missing", "unsupported scheme");
}
