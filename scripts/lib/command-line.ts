// Command definitions and argument parsing for the CLI: strict flags via node:util parseArgs, every mistake
// turned into a one-line usage CliError, and the help text of each command. No I/O: callers print.
import { parseArgs } from "node:util";
import { CliError } from "./cli-error";

export type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommandLine {
  values: OptionValues;
  positionals: string[];
}

export interface Command {
  /** The words that select it, as typed: "clients add". */
  name: string;
  /** One line for the top-level command list. */
  summary: string;
  /** The synopsis after the program name: "clients add <client_id> --jwks <file> [options]". */
  usage: string;
  /** Help body: what it does, each option, an example. */
  help: string;
  options: OptionSpec;
  /** Names of the positional arguments, all required. */
  positionals: string[];
  run(input: ParsedCommandLine): Promise<void>;
}

/** True when --help or -h appears before a `--` separator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

function quotedName(message: string): string {
  return /'([^']+)'/.exec(message)?.[1] ?? "?";
}

/**
 * Joins `--name value` into `--name=value` when `name` takes a value and `value` starts with a dash but is not one
 * of the command's own flags. Values such as RFC 7638 thumbprints are base64url and start with "-" one time in 64;
 * parseArgs alone would call them ambiguous. Nothing after a `--` separator is touched.
 */
export function joinDashedValues(options: OptionSpec, argv: readonly string[]): string[] {
  const flags = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    flags.add(`--${name}`);
    if (spec.short) flags.add(`-${spec.short}`);
  }
  flags.add("--help");
  flags.add("-h");
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const spec = arg.startsWith("--") && !arg.includes("=") ? options[arg.slice(2)] : undefined;
    if (spec?.type === "string" && next !== undefined && next.startsWith("-") && next !== "--" && !flags.has(next)) {
      out.push(`${arg}=${next}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Parses `argv` (the words after the command name) against the command's flags and positionals. */
export function parseCommandLine(command: Command, argv: string[]): ParsedCommandLine {
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    const args = joinDashedValues(command.options, argv);
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = err instanceof Error ? err.message : String(err);
    const name = quotedName(message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new CliError("usage", `${command.name}: unknown option ${name} (see ${command.name} --help)`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const option = /--[A-Za-z0-9-]+/.exec(message)?.[0] ?? name;
      const spec = command.options[option.replace(/^--/, "")];
      throw new CliError(
        "usage",
        spec?.type === "boolean"
          ? `${command.name}: ${option} takes no value`
          : `${command.name}: ${option} needs a value`,
      );
    }
    throw new CliError("usage", `${command.name}: ${message}`);
  }
  const expected = command.positionals;
  if (parsed.positionals.length < expected.length) {
    throw new CliError(
      "usage",
      `${command.name}: missing <${expected[parsed.positionals.length]}> (see ${command.name} --help)`,
    );
  }
  if (parsed.positionals.length > expected.length) {
    const extra = parsed.positionals[expected.length]!;
    throw new CliError(
      "usage",
      `${command.name}: unexpected argument ${JSON.stringify(extra)} (see ${command.name} --help)`,
    );
  }
  return parsed;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

export function requiredStringOption(command: Command, values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === "") throw new CliError("usage", `${command.name}: --${name} is required`);
  return value;
}

export function listOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value;
  return typeof value === "string" ? [value] : [];
}

export function booleanOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function renderCommandHelp(programName: string, command: Command): string {
  return `Usage: ${programName} ${command.usage}\n\n${command.summary}\n\n${command.help.trim()}\n`;
}
