// What each management change makes of a client's record: the next raw record (null once removed), validated with the
// registry's own rules, or a refusal saying why. Pure: no I/O, no clock; the authority applies the result.
import { LIMITS } from "../protocol/constants";
import { JwkError, validatePublicJwk } from "../protocol/jwk";
import { RecordError, validateClientRecord } from "../registry/record";
import type { ChangeRefusal, ClientChange } from "./contract";

export class ChangeRefused extends Error {
  readonly refusal: ChangeRefusal;

  constructor(refusal: ChangeRefusal, message: string) {
    super(message);
    this.name = "ChangeRefused";
    this.refusal = refusal;
  }
}

/** Members the service owns: a change never sets them from its input. */
const SERVER_MEMBERS = ["version"] as const;

function withoutServerMembers(record: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...record };
  for (const member of SERVER_MEMBERS) delete copy[member];
  return copy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7396: objects merge member by member, null removes a member, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = mergePatch(result[name], value);
  }
  return result;
}

/** Two public keys with the same type and key material (the RFC 7638 members), whatever their kid. */
function sameKey(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const members = ["kty", "crv", "n", "e", "x", "y"];
  return members.every((m) => a[m] === b[m]);
}

function inlineKeys(record: Record<string, unknown>): Array<Record<string, unknown>> | null {
  const jwks = record.jwks;
  return isObject(jwks) && Array.isArray(jwks.keys) ? (jwks.keys as Array<Record<string, unknown>>) : null;
}

/** The next record, validated under `clientId`, or ChangeRefused("invalid") with the registry's one-line reason. */
function validated(next: Record<string, unknown>, clientId: string): Record<string, unknown> {
  if (next.client_id !== clientId) throw new ChangeRefused("invalid", "client_id cannot change");
  try {
    validateClientRecord(next, clientId);
  } catch (err) {
    if (err instanceof RecordError) throw new ChangeRefused("invalid", err.message);
    throw err;
  }
  if (new TextEncoder().encode(JSON.stringify(next)).length > LIMITS.maxClientRecordBytes) {
    throw new ChangeRefused("invalid", `the record would exceed ${LIMITS.maxClientRecordBytes} bytes`);
  }
  return next;
}

function existing(current: Record<string, unknown> | null): Record<string, unknown> {
  if (current === null) throw new ChangeRefused("unknown", "no such client");
  return withoutServerMembers(current);
}

function retiredKids(record: Record<string, unknown>): string[] {
  return Array.isArray(record.retired_kids) ? (record.retired_kids as string[]) : [];
}

/**
 * Applies `change` to the current record of `clientId` (null when there is none). Returns the next record without
 * its version (the authority sets it), or null for a removal. Throws ChangeRefused.
 */
export function applyChange(
  current: Record<string, unknown> | null,
  change: ClientChange,
  clientId: string,
): Record<string, unknown> | null {
  switch (change.kind) {
    case "create": {
      if (current !== null) throw new ChangeRefused("exists", "the client already exists: replace or update it");
      return validated({ client_id: clientId, ...withoutServerMembers(change.record) }, clientId);
    }
    case "replace": {
      // A retirement is lifted only on purpose (restore, or a record naming retired_kids): a replacement that does
      // not mention them keeps them, so re-registering a jwks_uri client never brings back a key it still publishes.
      const base = existing(current);
      const next: Record<string, unknown> = { client_id: clientId, ...withoutServerMembers(change.record) };
      if (!("retired_kids" in next) && retiredKids(base).length > 0) next.retired_kids = retiredKids(base);
      return validated(next, clientId);
    }
    case "patch": {
      const base = existing(current);
      const patch = withoutServerMembers(change.patch);
      return validated(mergePatch(base, patch) as Record<string, unknown>, clientId);
    }
    case "status":
      return validated({ ...existing(current), status: change.status }, clientId);
    case "add_keys": {
      const base = existing(current);
      const keys = inlineKeys(base);
      if (keys === null)
        throw new ChangeRefused(
          "invalid",
          base.jwks_uri === undefined
            ? "the client has no inline keys (federated only): set jwks in the record to add some"
            : `the client publishes its keys at ${String(base.jwks_uri)}: rotate them there`,
        );
      for (const [index, key] of change.keys.entries()) {
        try {
          validatePublicJwk(key);
        } catch (err) {
          if (err instanceof JwkError) throw new ChangeRefused("invalid", `key ${index + 1}: ${err.message}`);
          throw err;
        }
        if (keys.some((k) => sameKey(k, key as Record<string, unknown>))) {
          throw new ChangeRefused(
            "invalid",
            `key ${index + 1} is already registered (kid ${String(keys.find((k) => sameKey(k, key as Record<string, unknown>))?.kid ?? "none")})`,
          );
        }
      }
      return validated({ ...base, jwks: { ...(base.jwks as object), keys: [...keys, ...change.keys] } }, clientId);
    }
    case "retire_key": {
      // An inline key leaves the record; a key at a jwks_uri, which the client may still publish, is listed as
      // retired. Either way the change makes a new version, which every token request of the client meets.
      const base = existing(current);
      const keys = inlineKeys(base);
      if (keys !== null) {
        if (!keys.some((k) => k.kid === change.kid))
          throw new ChangeRefused("invalid", `no key with kid ${JSON.stringify(change.kid)}`);
        const remaining = keys.filter((k) => k.kid !== change.kid);
        if (remaining.length === 0)
          throw new ChangeRefused(
            "invalid",
            "refusing to retire the last key: add its replacement first (add a key), or disable the client",
          );
        return validated({ ...base, jwks: { ...(base.jwks as object), keys: remaining } }, clientId);
      }
      const kids = retiredKids(base);
      if (kids.includes(change.kid))
        throw new ChangeRefused("invalid", `kid ${JSON.stringify(change.kid)} is already retired`);
      return validated({ ...base, retired_kids: [...kids, change.kid] }, clientId);
    }
    case "restore_key": {
      const base = existing(current);
      const kids = retiredKids(base);
      if (!kids.includes(change.kid))
        throw new ChangeRefused("invalid", `kid ${JSON.stringify(change.kid)} is not retired`);
      const { retired_kids: _, ...rest } = base;
      const remaining = kids.filter((kid) => kid !== change.kid);
      return validated(remaining.length > 0 ? { ...rest, retired_kids: remaining } : rest, clientId);
    }
    case "delete":
      existing(current);
      return null;
    default: {
      const unreachable: never = change;
      return unreachable;
    }
  }
}
