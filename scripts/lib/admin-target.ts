// Where the `clients` commands send their changes: to the running service's management API, as an operator (a
// private key file and a client id, from flags or from TOKEN_SERVICE_ADMIN_KEY / TOKEN_SERVICE_ADMIN_CLIENT_ID /
// TOKEN_SERVICE_ISSUER), or, without those, to the KV registry through wrangler (the bootstrap path). Flag and
// environment parsing only; no I/O.
import { CliError } from "./cli-error";
import { booleanOption, type OptionSpec, type OptionValues, stringOption } from "./command-line";
import { DEFAULT_ISSUER } from "./commands/token-command";
import { normalizeIssuer } from "./token-client";
import { resolveUserPath } from "./user-paths";

/** Where the management API is and who calls it: the operator client's id and private key file. */
export interface AdminTarget {
  issuer: string;
  clientId: string;
  keyPath: string;
  /** The key path as typed, for messages. */
  keyLabel: string;
}

/** The environment variables that configure the operator for every `clients` command. */
export const ADMIN_ENV = {
  key: "TOKEN_SERVICE_ADMIN_KEY",
  clientId: "TOKEN_SERVICE_ADMIN_CLIENT_ID",
  issuer: "TOKEN_SERVICE_ISSUER",
} as const;

export const ADMIN_TARGET_OPTIONS: OptionSpec = {
  "admin-key": { type: "string" },
  "admin-client-id": { type: "string" },
  issuer: { type: "string" },
};

export const ADMIN_TARGET_HELP = `Through the management API (the authoritative record; no Cloudflare credentials, wrangler is not called):
  --admin-key <file>       the operator client's private key (PKCS#8 PEM or private JWK); or ${ADMIN_ENV.key}
  --admin-client-id <id>   the operator, registered with --scope admin --audience <issuer>/admin; or ${ADMIN_ENV.clientId}
  --issuer <URL>           the running service (default ${DEFAULT_ISSUER}); or ${ADMIN_ENV.issuer}
  With both set in the environment, every clients command uses the management API unless a registry flag
  (--local, --persist-to, --remote) says otherwise.`;

const REGISTRY_FLAGS = ["local", "remote", "persist-to"] as const;

function registryFlagGiven(values: OptionValues): string | undefined {
  return REGISTRY_FLAGS.find((flag) =>
    flag === "persist-to" ? stringOption(values, flag) !== undefined : booleanOption(values, flag),
  );
}

/**
 * The management API target: from --admin-key (with --admin-client-id), or from the environment when no registry
 * flag is given; null when the command uses the KV registry. The registry flags do not mix with --admin-key, and
 * --admin-client-id / --issuer mean nothing without an operator key.
 */
export function adminTargetFrom(
  commandName: string,
  values: OptionValues,
  env: Record<string, string | undefined> = process.env,
): AdminTarget | null {
  const keyFlag = stringOption(values, "admin-key");
  const registryFlag = registryFlagGiven(values);
  if (keyFlag !== undefined && registryFlag !== undefined) {
    throw new CliError("usage", `${commandName}: --${registryFlag} does not apply with --admin-key`);
  }
  const fromEnv = keyFlag === undefined && registryFlag === undefined && env[ADMIN_ENV.key];
  const keyPath = keyFlag ?? (fromEnv ? env[ADMIN_ENV.key] : undefined);
  const clientId = stringOption(values, "admin-client-id") ?? (fromEnv ? env[ADMIN_ENV.clientId] : undefined);
  const issuer = stringOption(values, "issuer") ?? (keyPath !== undefined ? env[ADMIN_ENV.issuer] : undefined);
  if (keyPath === undefined) {
    if (stringOption(values, "admin-client-id") !== undefined)
      throw new CliError("usage", `${commandName}: --admin-client-id applies only with --admin-key`);
    if (stringOption(values, "issuer") !== undefined)
      throw new CliError("usage", `${commandName}: --issuer applies only with --admin-key`);
    return null;
  }
  if (keyPath === "") throw new CliError("usage", `${commandName}: --admin-key needs a file`);
  if (clientId === undefined || clientId === "") {
    throw new CliError(
      "usage",
      keyFlag !== undefined
        ? `${commandName}: --admin-key needs --admin-client-id <id>`
        : `${commandName}: ${ADMIN_ENV.key} needs ${ADMIN_ENV.clientId}`,
    );
  }
  return {
    issuer: normalizeIssuer(issuer ?? DEFAULT_ISSUER),
    clientId,
    keyPath: resolveUserPath(keyPath),
    keyLabel: keyPath,
  };
}
