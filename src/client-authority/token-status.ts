// Whether an access token this server signed is still active by its client's current state: the client registered
// and active, the key that obtained the token neither retired nor removed, the token issued after the client's
// cut-off and not revoked. Pure over values the authority passes in; no storage, no clock, never a token.
import { TRUST_KEY_PREFIX } from "../protocol/federation";
import { keyIdOf } from "../protocol/key-id";
import { type FederatedTrust, trustKeyId } from "../registry/federated-trust";
import type { OperatorCheck, OperatorVerdict, TokenStatus, TokenStatusQuery } from "./contract";

export function retiredKidsOf(record: Record<string, unknown>): string[] {
  return Array.isArray(record.retired_kids) ? (record.retired_kids as string[]) : [];
}

/**
 * Whether `keyId` is still one of the record's keys, or for a federated token one of its trusts. A client with a
 * jwks_uri publishes its own keys, which only a fetch would show: for it only a retirement (retired_kids) counts.
 */
async function isKeyRegistered(record: Record<string, unknown>, keyId: string): Promise<boolean> {
  if (keyId.startsWith(TRUST_KEY_PREFIX)) {
    // A federated token's key is its trust: it dies when the trust leaves the record.
    const trusts = Array.isArray(record.federation) ? (record.federation as FederatedTrust[]) : [];
    const trustIds = await Promise.all(trusts.map((trust) => trustKeyId(trust)));
    return trustIds.includes(keyId);
  }
  const keys = (record.jwks as { keys?: Array<Record<string, unknown>> } | undefined)?.keys;
  // A jwks_uri client's keys are only known to a fetch; a client with no keys at all has none registered.
  if (!keys) return record.jwks_uri !== undefined;
  const ids = await Promise.all(keys.map((key) => keyIdOf(key)));
  return ids.includes(keyId);
}

/**
 * The status of the token `query` describes, for the client `record` (null: not registered, or removed), the client's
 * cut-off (epoch seconds, null: none) and whether its jti is revoked. Every inactive case takes the same path to
 * here (one call to the client's authority), so a caller cannot time one against another.
 */
export async function tokenStatusOf(
  record: Record<string, unknown> | null,
  query: Pick<TokenStatusQuery, "issuedAt" | "keyId">,
  revocation: { cutoff: number | null; revoked: boolean },
): Promise<TokenStatus> {
  if (record === null) return { active: false, reason: "client_unknown" };
  if (record.status !== "active") return { active: false, reason: "client_disabled" };
  if (retiredKidsOf(record).includes(query.keyId)) return { active: false, reason: "key_retired" };
  if (!(await isKeyRegistered(record, query.keyId))) return { active: false, reason: "key_removed" };
  if (revocation.cutoff !== null && query.issuedAt < revocation.cutoff) {
    return { active: false, reason: "issued_before_cutoff" };
  }
  if (revocation.revoked) return { active: false, reason: "token_revoked" };
  return { active: true };
}

/** Whether an operator's record still grants the admin scope for the admin audience (its admin tokens die without). */
export function stillAdmin(record: Record<string, unknown>, check: OperatorCheck): OperatorVerdict {
  const scopes = Array.isArray(record.scopes) ? record.scopes : [];
  const audiences = Array.isArray(record.audiences) ? record.audiences : [];
  if (!scopes.includes(check.adminScope) || !audiences.includes(check.adminAudience)) {
    return { ok: false, detail: "the operator no longer has the admin scope for the admin audience" };
  }
  return { ok: true };
}
