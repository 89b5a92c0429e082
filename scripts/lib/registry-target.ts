// Which Workers KV namespace the registry commands write: local dev state (default), a throwaway local folder
// (--persist-to), or the deployed namespace (--remote). Flag parsing only; no I/O.
import { CliError } from "./cli-error";
import { booleanOption, type OptionSpec, type OptionValues, stringOption } from "./command-line";
import { resolveUserPath } from "./user-paths";

export type RegistryTarget = { kind: "local"; persistTo?: string } | { kind: "remote" };

export const REGISTRY_TARGET_OPTIONS: OptionSpec = {
  local: { type: "boolean" },
  remote: { type: "boolean" },
  "persist-to": { type: "string" },
};

export const REGISTRY_TARGET_HELP = `Registry location (CLIENTS KV binding from wrangler.toml):
  --local               local dev state in .wrangler/state, the one \`npm run dev\` reads (default)
  --persist-to <dir>    local state kept in <dir> instead (throwaway state, tests)
  --remote              the deployed namespace (needs \`wrangler login\` and the namespace id in wrangler.toml)`;

export function registryTargetFrom(commandName: string, values: OptionValues): RegistryTarget {
  const remote = booleanOption(values, "remote");
  const persistTo = stringOption(values, "persist-to");
  if (remote && booleanOption(values, "local")) {
    throw new CliError("usage", `${commandName}: choose one of --local and --remote`);
  }
  if (remote && persistTo !== undefined) {
    throw new CliError("usage", `${commandName}: --persist-to applies to local state only, not with --remote`);
  }
  if (remote) return { kind: "remote" };
  if (persistTo === "") throw new CliError("usage", `${commandName}: --persist-to needs a folder`);
  return persistTo === undefined ? { kind: "local" } : { kind: "local", persistTo: resolveUserPath(persistTo) };
}

export function describeTarget(target: RegistryTarget): string {
  if (target.kind === "remote") return "the deployed registry";
  return target.persistTo === undefined ? "the local registry" : `the local registry at ${target.persistTo}`;
}
