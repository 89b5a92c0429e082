// The flags that send a `clients` command to the running service's admin API instead of the KV registry
// (--admin-key, --admin-client-id, --issuer). Flag parsing only; no I/O.
import { CliError } from "./cli-error";
import { booleanOption, type OptionSpec, type OptionValues, stringOption } from "./command-line";
import { DEFAULT_ISSUER } from "./commands/token-command";
import { normalizeIssuer } from "./token-client";
import { resolveUserPath } from "./user-paths";

/** Where the admin API is and who calls it: the operator client's id and private key file. */
export interface AdminTarget {
  issuer: string;
  clientId: string;
  keyPath: string;
  /** The key path as typed, for messages. */
  keyLabel: string;
}

export const ADMIN_TARGET_OPTIONS: OptionSpec = {
  "admin-key": { type: "string" },
  "admin-client-id": { type: "string" },
  issuer: { type: "string" },
};

export const ADMIN_TARGET_HELP = `Through the admin API (instead of the registry; wrangler is not called):
  --admin-key <file>       the operator client's private key (PKCS#8 PEM or private JWK)
  --admin-client-id <id>   the operator client, registered with --scope admin --audience <issuer>/admin
  --issuer <URL>           the running service (default ${DEFAULT_ISSUER}); takes effect on the
                           client's next token request everywhere`;

/**
 * The admin API target when --admin-key is given, else null (the command uses the registry). The registry
 * flags do not mix with it, and --admin-client-id / --issuer mean nothing without it.
 */
export function adminTargetFrom(commandName: string, values: OptionValues): AdminTarget | null {
  const keyPath = stringOption(values, "admin-key");
  const clientId = stringOption(values, "admin-client-id");
  const issuer = stringOption(values, "issuer");
  if (keyPath === undefined) {
    if (clientId !== undefined)
      throw new CliError("usage", `${commandName}: --admin-client-id applies only with --admin-key`);
    if (issuer !== undefined) throw new CliError("usage", `${commandName}: --issuer applies only with --admin-key`);
    return null;
  }
  if (keyPath === "") throw new CliError("usage", `${commandName}: --admin-key needs a file`);
  if (clientId === undefined || clientId === "") {
    throw new CliError("usage", `${commandName}: --admin-key needs --admin-client-id <id>`);
  }
  for (const flag of ["remote", "local"]) {
    if (booleanOption(values, flag))
      throw new CliError("usage", `${commandName}: --${flag} does not apply with --admin-key`);
  }
  if (stringOption(values, "persist-to") !== undefined) {
    throw new CliError("usage", `${commandName}: --persist-to does not apply with --admin-key`);
  }
  return {
    issuer: normalizeIssuer(issuer ?? DEFAULT_ISSUER),
    clientId,
    keyPath: resolveUserPath(keyPath),
    keyLabel: keyPath,
  };
}
