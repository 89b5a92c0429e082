// Turns the `clients add` flags into a client record, and the `clients update` flags into a JSON merge patch of one
// (docs/registry.md); the federated trust comes ready-made from federation-options.ts. Pure: no I/O; the store
// validates the result with the Worker's rules before anything is written.

import { LIMITS } from "../../src/protocol/constants";
import type { ClientJwk } from "../../src/protocol/jwk";
import { isValidClientId } from "../../src/protocol/syntax";
import type { FederatedTrust } from "../../src/registry/federated-trust";
import { CliError } from "./cli-error";
import { booleanOption, listOption, type OptionSpec, type OptionValues, stringOption } from "./command-line";

export const CLIENT_RECORD_OPTIONS: OptionSpec = {
  scope: { type: "string", multiple: true },
  "default-scope": { type: "string", multiple: true },
  audience: { type: "string", multiple: true },
  "token-ttl": { type: "string" },
  name: { type: "string" },
  disabled: { type: "boolean" },
  "legacy-audience": { type: "boolean" },
  "dpop-bound": { type: "boolean" },
  introspect: { type: "boolean" },
  "rate-limit": { type: "string" },
};

export const CLIENT_RECORD_HELP = `Record fields:
  --scope "a b"          scopes the client may be granted (space-separated; repeatable)
  --default-scope "a"    scopes granted when a request names none (a subset of --scope; default: all of them)
  --audience <uri>       resource (RFC 8707) the client may get tokens for; the first is the default aud (repeatable)
  --token-ttl <seconds>  access token lifetime for this client (capped by ACCESS_TOKEN_TTL)
  --name <text>          human-readable label
  --disabled             store the client disabled (it cannot get tokens until \`clients enable\`)
  --legacy-audience      also accept the token endpoint URL as assertion aud (older client libraries)
  --dpop-bound           issue this client DPoP-bound tokens only: a token request without a DPoP proof is refused
  --introspect           let this client call the introspection endpoint (RFC 7662, <issuer>/introspect): a
                         resource server that checks tokens online
  --rate-limit <n>/<s>   at most <n> token requests per <s> seconds, e.g. 100/60 (default: unlimited)`;

/** Refuses a client_id the registry could not hold, before any file is read. */
export function checkClientId(commandName: string, clientId: string): void {
  if (!isValidClientId(clientId)) {
    throw new CliError(
      "usage",
      `${commandName}: client_id must be 1 to ${LIMITS.maxClientIdLength} printable ASCII characters`,
    );
  }
}

const RATE_LIMIT = /^([1-9][0-9]{0,8})\/([1-9][0-9]{0,8})$/;

function scopeTokens(values: OptionValues, name: string): string[] {
  return listOption(values, name).flatMap((value) => value.split(/\s+/).filter(Boolean));
}

/** Checks the record flags that need no key material, so a bad flag is reported before files are read. */
export function checkRecordFlags(commandName: string, values: OptionValues): void {
  const ttl = stringOption(values, "token-ttl");
  if (ttl !== undefined && !/^[1-9][0-9]{0,8}$/.test(ttl)) {
    throw new CliError("usage", `${commandName}: --token-ttl must be a positive whole number of seconds`);
  }
  const rateLimit = stringOption(values, "rate-limit");
  if (rateLimit !== undefined && !RATE_LIMIT.test(rateLimit)) {
    throw new CliError("usage", `${commandName}: --rate-limit must be <requests>/<seconds>, e.g. 100/60`);
  }
}

/**
 * The record `clients add` writes: inline keys, the URL the client publishes them at, or none (a federated-only
 * client), and its federated trust if any. Field order follows docs/registry.md.
 */
export function clientRecordFrom(
  clientId: string,
  keys: ClientJwk[] | string | null,
  values: OptionValues,
  trust: FederatedTrust | null = null,
): Record<string, unknown> {
  const record: Record<string, unknown> = { client_id: clientId };
  const name = stringOption(values, "name");
  if (name !== undefined) record.name = name;
  record.status = booleanOption(values, "disabled") ? "disabled" : "active";
  if (typeof keys === "string") record.jwks_uri = keys;
  else if (keys !== null) record.jwks = { keys };
  if (trust !== null) record.federation = [trust];
  record.scopes = scopeTokens(values, "scope");
  if (values["default-scope"] !== undefined) record.default_scopes = scopeTokens(values, "default-scope");
  record.audiences = listOption(values, "audience");
  const ttl = stringOption(values, "token-ttl");
  if (ttl !== undefined) record.token_ttl = Number(ttl);
  if (booleanOption(values, "legacy-audience")) record.legacy_audience = true;
  if (booleanOption(values, "dpop-bound")) record.dpop_bound_access_tokens = true;
  if (booleanOption(values, "introspect")) record.introspection = true;
  const rateLimit = RATE_LIMIT.exec(stringOption(values, "rate-limit") ?? "");
  if (rateLimit) record.rate_limit = { requests: Number(rateLimit[1]), per_seconds: Number(rateLimit[2]) };
  return record;
}

/**
 * The `clients update` flags as an RFC 7396 merge patch: each given field replaces it, a --no-… flag removes it. A
 * trust replaces the whole `federation` list, as any list flag does.
 */
export function recordPatchFrom(
  commandName: string,
  values: OptionValues,
  trust: FederatedTrust | null = null,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const name = stringOption(values, "name");
  if (name !== undefined) patch.name = name;
  if (values.scope !== undefined) patch.scopes = scopeTokens(values, "scope");
  if (values["default-scope"] !== undefined) patch.default_scopes = scopeTokens(values, "default-scope");
  if (values.audience !== undefined) patch.audiences = listOption(values, "audience");
  const ttl = stringOption(values, "token-ttl");
  if (ttl !== undefined) patch.token_ttl = Number(ttl);
  if (booleanOption(values, "legacy-audience") && booleanOption(values, "no-legacy-audience")) {
    throw new CliError("usage", `${commandName}: choose one of --legacy-audience and --no-legacy-audience`);
  }
  if (booleanOption(values, "legacy-audience")) patch.legacy_audience = true;
  if (booleanOption(values, "no-legacy-audience")) patch.legacy_audience = null;
  if (booleanOption(values, "dpop-bound") && booleanOption(values, "no-dpop-bound")) {
    throw new CliError("usage", `${commandName}: choose one of --dpop-bound and --no-dpop-bound`);
  }
  if (booleanOption(values, "dpop-bound")) patch.dpop_bound_access_tokens = true;
  if (booleanOption(values, "no-dpop-bound")) patch.dpop_bound_access_tokens = null;
  if (booleanOption(values, "introspect") && booleanOption(values, "no-introspect")) {
    throw new CliError("usage", `${commandName}: choose one of --introspect and --no-introspect`);
  }
  if (booleanOption(values, "introspect")) patch.introspection = true;
  if (booleanOption(values, "no-introspect")) patch.introspection = null;
  const rateLimit = RATE_LIMIT.exec(stringOption(values, "rate-limit") ?? "");
  if (rateLimit && booleanOption(values, "no-rate-limit")) {
    throw new CliError("usage", `${commandName}: choose one of --rate-limit and --no-rate-limit`);
  }
  if (rateLimit) patch.rate_limit = { requests: Number(rateLimit[1]), per_seconds: Number(rateLimit[2]) };
  if (booleanOption(values, "no-rate-limit")) patch.rate_limit = null;
  if (trust !== null) patch.federation = [trust];
  if (booleanOption(values, "no-federation")) patch.federation = null;
  return patch;
}
