// The audience rule of a client assertion (RFC 7523 section 3, draft-ietf-oauth-rfc7523bis section 4): which `aud`
// values are accepted, compared exactly, and the token endpoint URL only for a client flagged legacy_audience.
// Pure: no I/O, no clock.
import { TokenServiceError } from "../protocol/errors";

/**
 * rfc7523bis section 4: a JSON string, never an array, equal to an accepted value by simple string comparison (no
 * trailing-slash, case or whitespace folding). Returns the accepted value.
 */
export function checkAudienceValue(aud: unknown, acceptedAudiences: readonly string[]): string {
  if (typeof aud !== "string") throw new TokenServiceError("aud_invalid", "aud is not a single string");
  if (!acceptedAudiences.includes(aud)) throw new TokenServiceError("aud_invalid", "aud is not the issuer");
  return aud;
}

/**
 * The audience check that needs the client record: the issuer identifier is always accepted; the token endpoint
 * URL only for a client registered with `legacy_audience` (pre-rfc7523bis libraries).
 */
export function checkAudienceForClient(aud: string, issuer: string, legacyAudienceAllowed: boolean): void {
  if (aud !== issuer && !legacyAudienceAllowed) {
    throw new TokenServiceError("aud_invalid", "token endpoint audience from a client without legacy_audience");
  }
}
