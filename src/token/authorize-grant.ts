// Decides what an authenticated client gets: the granted scopes (RFC 6749 section 3.3) and the access token
// audience (RFC 8707 resource indicators), from the request and the client record. Pure: no I/O, no clock.
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { isResourceIndicator, isValidScopeToken } from "../protocol/syntax";
import type { ClientRecord } from "../registry/record";

export interface GrantDecision {
  scopes: string[];
  /** `aud` of the access token: one string, or an array when several resources were requested. */
  audience: string | string[];
  /** Access token lifetime in seconds. */
  ttl: number;
}

/** Splits a scope parameter: scope-tokens separated by single spaces (RFC 6749 section 3.3). */
export function parseScope(scope: string): string[] {
  const tokens = scope.split(" ");
  if (!tokens.every(isValidScopeToken)) throw new TokenServiceError("scope_malformed");
  return [...new Set(tokens)];
}

export function decideGrant(
  record: ClientRecord,
  request: { scope?: string; resources: readonly string[] },
  defaults: { audience: string; maxTtl: number; adminAudience: string },
): GrantDecision {
  let scopes: string[];
  if (request.scope === undefined || request.scope === "") {
    scopes = record.default_scopes ?? record.scopes;
  } else {
    scopes = parseScope(request.scope);
    if (scopes.some((s) => !record.scopes.includes(s))) throw new TokenServiceError("scope_not_allowed");
  }

  let audience: string | string[];
  if (request.resources.length === 0) {
    audience = record.audiences[0] ?? defaults.audience;
  } else {
    for (const resource of request.resources) {
      if (!isResourceIndicator(resource)) throw new TokenServiceError("resource_invalid");
      if (!record.audiences.includes(resource)) throw new TokenServiceError("resource_not_allowed");
    }
    const unique = [...new Set(request.resources)];
    // An admin token is for the admin API alone: a token that any other audience also accepts would hand that
    // service an admin credential.
    if (unique.length > 1 && unique.includes(defaults.adminAudience))
      throw new TokenServiceError("admin_audience_not_alone");
    audience = unique.length === 1 ? unique[0]! : unique;
  }

  let ttl = Math.min(record.token_ttl ?? defaults.maxTtl, defaults.maxTtl);
  if (audience === defaults.adminAudience) ttl = Math.min(ttl, LIMITS.maxAdminTokenTtl);
  return { scopes, audience, ttl };
}
