// Parses a revocation (RFC 7009 section 2.1) or introspection (RFC 7662 section 2.1) request: the form grammar and
// the client authentication the token endpoint uses (token/parse-request.ts), the `token` parameter, and the
// `token_type_hint`. No crypto, no storage, no clock.
import { TokenServiceError } from "../protocol/errors";
import { type ClientCredentials, parseClientCredentials, parseForm } from "../token/parse-request";

/** RFC 7009 section 2.1 / RFC 7662 section 2.1 `token_type_hint` values (the IANA registry's two). */
const TOKEN_TYPE_HINTS = ["access_token", "refresh_token"] as const;

export type TokenTypeHint = (typeof TOKEN_TYPE_HINTS)[number];

export interface TokenStatusRequest {
  credentials: ClientCredentials;
  /** The token the request is about, as sent (never logged). */
  token: string;
  /**
   * The hint, when it names a registered type. This server issues access tokens only, so a `refresh_token` hint
   * extends the search to them (RFC 7009 section 2.1) and finds the same; an unknown hint is ignored (RFC 7662 2.1).
   */
  hint?: TokenTypeHint;
}

export function parseTokenStatusRequest(body: string, authorizationHeader: string | undefined): TokenStatusRequest {
  const form = parseForm(body);
  const credentials = parseClientCredentials(form, authorizationHeader);
  const token = form.one("token");
  if (token === undefined) throw new TokenServiceError("token_parameter_missing");
  const request: TokenStatusRequest = { credentials, token };
  const hint = form.one("token_type_hint");
  if (hint !== undefined && (TOKEN_TYPE_HINTS as readonly string[]).includes(hint)) {
    request.hint = hint as TokenTypeHint;
  }
  return request;
}
