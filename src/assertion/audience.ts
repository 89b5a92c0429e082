// The audience rule of a client assertion (RFC 7523 section 3, RFC 10070 section 4): which `aud` values are accepted,
// compared exactly, and the token endpoint URL only for a client flagged legacy_audience. Pure: no I/O, no clock.
import { TokenServiceError } from "../protocol/errors";

export interface AudiencePolicy {
  /**
   * Exact `aud` strings accepted: the issuer identifier (and the token endpoint URL, which the record check then
   * allows for legacy clients only). No normalising: no trailing-slash, case or whitespace folding.
   */
  acceptedAudiences: readonly string[];
  /**
   * The value accepted as the sole member of an array: RFC 10070 requires the issuer as the only audience value but
   * does not restrict the claim's type, so `["<issuer>"]` is compliant. Absent where only a string is accepted
   * (PROFILE=fapi2).
   */
  arrayAudience?: string;
}

/**
 * RFC 10070 section 4: the issuer as the sole audience value, a JSON string (or, where the policy allows it, the only
 * member of an array), equal by simple string comparison. Returns the accepted value.
 */
export function checkAudienceValue(aud: unknown, policy: AudiencePolicy): string {
  if (Array.isArray(aud)) {
    if (policy.arrayAudience === undefined) throw new TokenServiceError("aud_invalid", "aud is an array");
    if (aud.length !== 1 || aud[0] !== policy.arrayAudience) {
      throw new TokenServiceError("aud_invalid", "aud array is not the issuer alone");
    }
    return policy.arrayAudience;
  }
  if (typeof aud !== "string") throw new TokenServiceError("aud_invalid", "aud is not a string");
  if (!policy.acceptedAudiences.includes(aud)) throw new TokenServiceError("aud_invalid", "aud is not the issuer");
  return aud;
}

/**
 * The audience check that needs the client record: the issuer identifier is always accepted; the token endpoint
 * URL (as a string only) for a client registered with `legacy_audience` (libraries built before RFC 10070).
 */
export function checkAudienceForClient(aud: string, issuer: string, legacyAudienceAllowed: boolean): void {
  if (aud !== issuer && !legacyAudienceAllowed) {
    throw new TokenServiceError("aud_invalid", "token endpoint audience from a client without legacy_audience");
  }
}
