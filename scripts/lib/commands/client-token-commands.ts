// The `clients` command for the tokens a client already holds: revoke-tokens, which makes every token issued to the
// client until now inactive, through the management API (the client's authority keeps the cut-off). It never
// disables the client or changes its record, never prints a token, and refuses the KV registry, which holds no tokens.
import { ADMIN_ENV, ADMIN_TARGET_HELP, adminTargetFrom } from "../admin-target";
import { CliError } from "../cli-error";
import { checkClientId } from "../client-record-options";
import { booleanOption, type Command } from "../command-line";
import { ApiClientStore } from "../stores/api-client-store";
import { CLIENT_STORE_OPTIONS } from "../stores/client-store";

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Epoch seconds as an ISO 8601 UTC time without fractions: 2026-12-02T04:50:21Z. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const clientsRevokeTokens: Command = {
  name: "clients revoke-tokens",
  summary: "Make every token issued to a client until now inactive (management API only); new tokens work.",
  usage: "clients revoke-tokens <client_id> [--json] [--admin-key <file> --admin-client-id <id>] [--issuer <URL>]",
  positionals: ["client_id"],
  options: { json: { type: "boolean" }, ...CLIENT_STORE_OPTIONS },
  help: `Options:
  --json   print the management API's answer ({"client_id", "tokens_revoked_before"}) instead of a sentence

The client's authority sets a cut-off, the next whole second: every token issued to the client before it is
inactive at once, in every location, at introspection (<issuer>/introspect) and at the management API (an
operator's admin tokens too). Tokens issued from the cut-off on work. It does not disable the client or change its
record: to stop it getting new tokens, use \`clients disable\`.

Resource servers that verify tokens offline, against the JWKS alone, cannot see the cut-off: they keep accepting
the old tokens until those expire (at most ACCESS_TOKEN_TTL, one hour at most). Resource servers that must honour
it check tokens online (docs/resource-server.md).

${ADMIN_TARGET_HELP}
  The KV registry (--local, --persist-to, --remote) holds no tokens: this command refuses it.

Example:
  npm run cli -- clients revoke-tokens acme --admin-key ops.private.jwk --admin-client-id ops --issuer https://auth.example.com`,
  async run({ values, positionals }) {
    const clientId = positionals[0]!;
    checkClientId(this.name, clientId);
    const target = adminTargetFrom(this.name, values);
    if (target === null) {
      throw new CliError(
        "usage",
        `${this.name}: needs the management API (the KV registry holds no tokens): give --admin-key <file> and --admin-client-id <id> (and --issuer <URL>), or set ${ADMIN_ENV.key} and ${ADMIN_ENV.clientId}`,
      );
    }
    const store = await ApiClientStore.open(target);
    const before = await store.revokeTokens(clientId);
    if (booleanOption(values, "json")) {
      say(JSON.stringify({ client_id: clientId, tokens_revoked_before: before }, null, 2));
      return;
    }
    say(
      `Revoked every token issued to client ${JSON.stringify(clientId)} before ${isoSeconds(before)} (${before}) in ` +
        `${store.where}; tokens issued from then on work, and the client's record is unchanged.`,
    );
  },
};

export const clientTokenCommands: Command[] = [clientsRevokeTokens];
