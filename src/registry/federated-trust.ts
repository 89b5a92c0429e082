// A client record's federated trusts (docs/federation.md): which external issuer's tokens, for which subject, audience
// and claims, may stand in for the client's own assertion. Validation here is the registration-time safety net: a
// shared issuer (GitHub Actions, GitLab) without an owner pin, or a Kubernetes `default` service account, is refused
// with a message that says why. Pure: no I/O, no clock; shared by the Worker, the authority and the CLI.
import { shortHash } from "../lib/short-hash";
import { LIMITS } from "../protocol/constants";
import { FEDERATION, isDefaultServiceAccount, sharedIssuerOf, TRUST_KEY_PREFIX } from "../protocol/federation";
import { type ClientJwk, JwkError, validatePublicJwkSet } from "../protocol/jwk";
import { isLoopbackHost, jwksUriProblem } from "../protocol/syntax";

export interface FederatedTrust {
  /** The external issuer, exactly as its tokens' `iss` says it (an https URL; discovery is under it). */
  issuer: string;
  /** The external token's `sub`, matched exactly. */
  subject: string;
  /** The `aud` the external token must carry, as its only audience. Absent: this server's ISSUER. */
  audience?: string;
  /** Claim conditions: each named claim (a dotted path reaches into objects) must be this exact string. */
  claims?: Record<string, string>;
  /** Longest accepted age (now - iat) in seconds. Absent: FEDERATION.defaultMaxAgeSeconds. */
  max_age?: number;
  /** Accept the same token more than once (and a token without `jti`), until its exp and max_age. */
  allow_reuse?: boolean;
  /** Tokens obtained through this trust must be DPoP-bound: a request without a proof is refused. */
  require_dpop?: boolean;
  /** Allow a Kubernetes subject naming the namespace's `default` service account (off: every pod runs as it). */
  allow_default_service_account?: boolean;
  /** The issuer's keys, for an issuer that is not reachable (a private cluster); else discovered and fetched. */
  jwks?: { keys: ClientJwk[] };
}

const TRUST_MEMBERS = [
  "issuer",
  "subject",
  "audience",
  "claims",
  "max_age",
  "allow_reuse",
  "require_dpop",
  "allow_default_service_account",
  "jwks",
];

const PRINTABLE = /^[^\p{Cc}]+$/u;

function boundedString(value: unknown, max: number): value is string {
  // Printable: no control character (a newline in a subject would forge an audit line's reading).
  return typeof value === "string" && value.length > 0 && value.length <= max && PRINTABLE.test(value);
}

/** Why `value` cannot be an issuer identifier (RFC 8414 section 2: an https URL, no query or fragment), or null. */
function issuerNameProblem(value: unknown): string | null {
  if (!boundedString(value, LIMITS.maxUriLength)) return `must be a URL of at most ${LIMITS.maxUriLength} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname)))
    return "must be an https URL (http only for localhost)";
  return url.search || url.hash || url.username || url.password ? "must have no query, fragment or credentials" : null;
}

function flag(raw: Record<string, unknown>, name: string, at: string): boolean | undefined {
  if (raw[name] === undefined) return undefined;
  if (typeof raw[name] !== "boolean") throw new Error(`${at}.${name} must be true or false`);
  return raw[name] as boolean;
}

function claimConditions(value: unknown, at: string): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${at}.claims must be an object of claim name to exact string value`);
  const entries = Object.entries(value);
  if (entries.length > FEDERATION.maxClaimConditions)
    throw new Error(`${at}.claims holds more than ${FEDERATION.maxClaimConditions} conditions`);
  for (const [name, expected] of entries) {
    if (!boundedString(name, FEDERATION.maxClaimNameLength) || name.startsWith(".") || name.endsWith("."))
      throw new Error(`${at}.claims: a claim name is 1 to ${FEDERATION.maxClaimNameLength} characters`);
    if ((FEDERATION.reservedClaims as readonly string[]).includes(name))
      throw new Error(`${at}.claims may not name ${name}: the trust's own fields and the clock check it`);
    if (!boundedString(expected, FEDERATION.maxValueLength))
      throw new Error(`${at}.claims.${name} must be a string of 1 to ${FEDERATION.maxValueLength} characters`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** One trust, checked; `at` names it in messages (`federation[0]`). Throws Error with the reason. */
function validateTrust(input: unknown, at: string): FederatedTrust {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error(`${at} must be an object`);
  const raw = input as Record<string, unknown>;
  // Unlike a record's, a trust's unknown members are refused: a misspelt `claims` or `max_age` would silently drop
  // a condition.
  const unknown = Object.keys(raw).find((name) => !TRUST_MEMBERS.includes(name));
  if (unknown !== undefined) throw new Error(`${at} has an unknown member ${unknown.slice(0, 40)}`);
  // An issuer whose keys are fetched passes the host policy of a jwks_uri; one with a static set is never fetched, so
  // a private cluster's (https://kubernetes.default.svc) is a valid name for it.
  const problem = issuerNameProblem(raw.issuer) ?? (raw.jwks === undefined ? jwksUriProblem(raw.issuer) : null);
  if (problem !== null) throw new Error(`${at}.issuer ${problem}`);
  const issuer = raw.issuer as string;
  if (!boundedString(raw.subject, FEDERATION.maxValueLength))
    throw new Error(`${at}.subject must be a string of 1 to ${FEDERATION.maxValueLength} characters`);
  const trust: FederatedTrust = { issuer, subject: raw.subject };
  if (raw.audience !== undefined) {
    if (!boundedString(raw.audience, LIMITS.maxUriLength))
      throw new Error(`${at}.audience must be a string of 1 to ${LIMITS.maxUriLength} characters`);
    trust.audience = raw.audience;
  }
  if (raw.claims !== undefined) trust.claims = claimConditions(raw.claims, at);
  if (raw.max_age !== undefined) {
    const age = raw.max_age;
    if (typeof age !== "number" || !Number.isInteger(age) || age < 1 || age > FEDERATION.maxMaxAgeSeconds)
      throw new Error(`${at}.max_age must be a whole number of seconds from 1 to ${FEDERATION.maxMaxAgeSeconds}`);
    trust.max_age = age;
  }
  for (const name of ["allow_reuse", "require_dpop", "allow_default_service_account"] as const) {
    const value = flag(raw, name, at);
    if (value !== undefined) trust[name] = value;
  }
  if (raw.jwks !== undefined) {
    try {
      trust.jwks = { keys: validatePublicJwkSet(raw.jwks) };
    } catch (err) {
      if (err instanceof JwkError) throw new Error(`${at}.jwks: ${err.message}`);
      throw err;
    }
  }
  const shared = sharedIssuerOf(issuer);
  if (shared && !shared.pinClaims.some((claim) => trust.claims?.[claim] !== undefined)) {
    throw new Error(
      `${at}: ${shared.name} signs tokens for everyone on it, and its subjects can be claimed by whoever registers the name: pin the owner with a claim condition on one of ${shared.pinClaims.join(", ")}`,
    );
  }
  if (isDefaultServiceAccount(trust.subject) && trust.allow_default_service_account !== true) {
    throw new Error(
      `${at}.subject names a namespace's default service account, which every pod without its own runs as: use a dedicated service account, or set allow_default_service_account`,
    );
  }
  return trust;
}

/** A record's `federation` list, checked: 1 to FEDERATION.maxTrustsPerClient trusts, no issuer-subject pair twice. */
export function validateFederation(value: unknown): FederatedTrust[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > FEDERATION.maxTrustsPerClient)
    throw new Error(`federation must be an array of 1 to ${FEDERATION.maxTrustsPerClient} trusts`);
  const trusts = value.map((entry, index) => validateTrust(entry, `federation[${index}]`));
  const pairs = new Set(trusts.map((trust) => `${trust.issuer}\n${trust.subject}`));
  if (pairs.size !== trusts.length) throw new Error("federation holds the same issuer and subject twice");
  return trusts;
}

/**
 * The key id (`client_key`) of the tokens a trust obtains: a fingerprint of its issuer and subject, so a token dies
 * with its trust (removed from the record, or named in retired_kids) as a key-based token dies with its key.
 */
export async function trustKeyId(trust: Pick<FederatedTrust, "issuer" | "subject">): Promise<string> {
  return `${TRUST_KEY_PREFIX}${await shortHash(`${trust.issuer}\n${trust.subject}`)}`;
}
