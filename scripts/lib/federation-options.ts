// Turns the `--federated-*` flags of `clients add` and `clients update` into one federated trust of a client record
// (src/registry/federated-trust.ts): usage mistakes first, then the issuer's key file if one is named, then the
// Worker's own trust validation, so a trust it would refuse (a shared issuer without an owner pin, a default service
// account) is refused here, in one line, before the store is read or written. Reads the key file only.
import { FEDERATION } from "../../src/protocol/federation";
import { type FederatedTrust, validateFederation } from "../../src/registry/federated-trust";
import { CliError } from "./cli-error";
import { booleanOption, listOption, type OptionSpec, type OptionValues, stringOption } from "./command-line";
import { readIssuerKeySetFile } from "./public-key-file";
import { resolveUserPath } from "./user-paths";

export const FEDERATION_OPTIONS: OptionSpec = {
  "federated-issuer": { type: "string" },
  "federated-subject": { type: "string" },
  "federated-audience": { type: "string" },
  "federated-claim": { type: "string", multiple: true },
  "federated-allow-reuse": { type: "boolean" },
  "federated-max-age": { type: "string" },
  "federated-require-dpop": { type: "boolean" },
  "federated-allow-default-service-account": { type: "boolean" },
  "federated-jwks": { type: "string" },
};

const ISSUER = "federated-issuer";
/** Every flag that describes the trust further, and so means nothing without --federated-issuer. */
const DEPENDENT_FLAGS = Object.keys(FEDERATION_OPTIONS).filter((name) => name !== ISSUER);

export const FEDERATION_HELP = `Federation (one trust: an external issuer's token stands in for the client's own assertion; a GitHub
Actions or GitLab.com trust must pin the owner with a --federated-claim such as repository_owner_id=...):
  --federated-issuer <url>                   the external issuer, exactly as its tokens' iss says (an https URL)
  --federated-subject <sub>                  the external token's sub, matched exactly (required with the issuer)
  --federated-audience <aud>                 the aud the external token must carry (default: this service's issuer)
  --federated-claim <name>=<value>           a claim it must hold with exactly this value (dotted paths; repeatable)
  --federated-allow-reuse                    accept the same external token more than once (and one without jti)
  --federated-max-age <seconds>              the oldest external token accepted (now - iat), 1 to ${FEDERATION.maxMaxAgeSeconds} (default ${FEDERATION.defaultMaxAgeSeconds})
  --federated-require-dpop                   tokens obtained through this trust must be DPoP-bound
  --federated-allow-default-service-account  allow a subject naming a Kubernetes namespace's default service account
  --federated-jwks <file>                    the issuer's JWK Set, for an issuer the service cannot reach`;

/** Whether any --federated-* flag was given. */
export function hasFederationFlags(values: OptionValues): boolean {
  return Object.keys(FEDERATION_OPTIONS).some((name) => values[name] !== undefined);
}

/** `name=value`, split on the first "=", both parts non-empty; a usage error otherwise. */
function claimCondition(commandName: string, text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) {
    throw new CliError(
      "usage",
      `${commandName}: --federated-claim must be <name>=<value>, e.g. repository_owner_id=65432 (got ${JSON.stringify(text)})`,
    );
  }
  return [text.slice(0, at), text.slice(at + 1)];
}

function claimConditions(commandName: string, values: OptionValues): Record<string, string> | undefined {
  const given = listOption(values, "federated-claim");
  if (given.length === 0) return undefined;
  // A Map, then own members: a claim named __proto__ is a condition like any other, not an object's prototype.
  const claims = new Map<string, string>();
  for (const text of given) {
    const [name, value] = claimCondition(commandName, text);
    if (claims.has(name))
      throw new CliError("usage", `${commandName}: --federated-claim names ${JSON.stringify(name)} twice`);
    claims.set(name, value);
  }
  return Object.fromEntries(claims);
}

/** Checks the --federated-* flags that need no file, so a mistake is reported before anything is read. */
export function checkFederationFlags(commandName: string, values: OptionValues): void {
  if (booleanOption(values, "no-federation") && hasFederationFlags(values)) {
    throw new CliError("usage", `${commandName}: choose one of --federated-* and --no-federation`);
  }
  if (stringOption(values, ISSUER) === undefined) {
    const stray = DEPENDENT_FLAGS.find((name) => values[name] !== undefined);
    if (stray !== undefined) throw new CliError("usage", `${commandName}: --${stray} needs --federated-issuer <url>`);
    return;
  }
  if (stringOption(values, "federated-subject") === undefined) {
    throw new CliError("usage", `${commandName}: --federated-subject <sub> is required with --federated-issuer`);
  }
  const maxAge = stringOption(values, "federated-max-age");
  if (maxAge !== undefined && !(/^[1-9][0-9]{0,5}$/.test(maxAge) && Number(maxAge) <= FEDERATION.maxMaxAgeSeconds)) {
    throw new CliError(
      "usage",
      `${commandName}: --federated-max-age must be a whole number of seconds from 1 to ${FEDERATION.maxMaxAgeSeconds}`,
    );
  }
  claimConditions(commandName, values);
}

/**
 * The trust the flags describe, validated with the Worker's rules (src/registry/federated-trust.ts), or null when no
 * --federated-issuer was given. Reads the --federated-jwks file. Throws CliError: `usage` for a flag mistake,
 * `record_invalid` with the Worker's reason for a trust it would refuse.
 */
export async function federatedTrustFrom(commandName: string, values: OptionValues): Promise<FederatedTrust | null> {
  checkFederationFlags(commandName, values);
  const issuer = stringOption(values, ISSUER);
  if (issuer === undefined) return null;
  const trust: FederatedTrust = { issuer, subject: stringOption(values, "federated-subject")! };
  const audience = stringOption(values, "federated-audience");
  if (audience !== undefined) trust.audience = audience;
  const claims = claimConditions(commandName, values);
  if (claims !== undefined) trust.claims = claims;
  const maxAge = stringOption(values, "federated-max-age");
  if (maxAge !== undefined) trust.max_age = Number(maxAge);
  if (booleanOption(values, "federated-allow-reuse")) trust.allow_reuse = true;
  if (booleanOption(values, "federated-require-dpop")) trust.require_dpop = true;
  if (booleanOption(values, "federated-allow-default-service-account")) trust.allow_default_service_account = true;
  const jwksPath = stringOption(values, "federated-jwks");
  if (jwksPath !== undefined) trust.jwks = { keys: await readIssuerKeySetFile(resolveUserPath(jwksPath), jwksPath) };
  try {
    return validateFederation([trust])[0]!;
  } catch (err) {
    throw new CliError("record_invalid", `${commandName}: ${(err as Error).message}`);
  }
}

/** "trusts <issuer> for <subject>", for the commands' one-line reports. */
export function describeTrust(trust: Pick<FederatedTrust, "issuer" | "subject">): string {
  return `trusts ${trust.issuer} for ${JSON.stringify(trust.subject)}`;
}
