// Entry point of the operator and client CLI (`npm run cli -- <command>`; docs/cli.md). Finds the command,
// prints help, and turns every failure into one line on stderr and a non-zero exit. The commands do the work.
import { CliError, describeError } from "./lib/cli-error";
import { type Command, parseCommandLine, renderCommandHelp, wantsHelp } from "./lib/command-line";
import { clientsCommands } from "./lib/commands/clients-commands";
import { keysGenerate } from "./lib/commands/keys-command";
import { signingKeyCommands } from "./lib/commands/signing-key-commands";
import { tokenCommand } from "./lib/commands/token-command";

const PROGRAM = "npm run cli --";

const COMMANDS: Command[] = [keysGenerate, ...clientsCommands, ...signingKeyCommands, tokenCommand];
const GROUPS = [...new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0]!))];

function commandList(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
}

const TOP_HELP = `Usage: ${PROGRAM} <command> [options]

Keys and client registration for the token service, and a client that gets tokens.

Commands:
${commandList(COMMANDS)}

Run \`${PROGRAM} <command> --help\` for a command's options and an example.
Registry commands write local dev state by default (the state \`npm run dev\` reads); add --remote for the
deployed namespace. Exit status: 0 done, 1 refused or failed, 2 wrong usage. Guide: docs/cli.md
`;

function groupHelp(group: string): string {
  return `Usage: ${PROGRAM} ${group} <subcommand> [options]\n\nSubcommands:\n${commandList(COMMANDS.filter((c) => c.name.startsWith(`${group} `)))}\n`;
}

/** The command named by the leading words of argv, and the words after its name. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | { help: string } {
  const [first, second] = argv;
  if (first === undefined) throw new CliError("usage", `missing command (run ${PROGRAM} --help to list them)`);
  if (first === "--help" || first === "-h" || first === "help") return { help: TOP_HELP };
  if (GROUPS.includes(first)) {
    const command = COMMANDS.find((c) => c.name === `${first} ${second}`);
    if (command) return { command, rest: argv.slice(2) };
    if (second === undefined || second === "--help" || second === "-h" || second === "help") {
      if (second === undefined)
        throw new CliError("usage", `${first}: missing subcommand (run ${PROGRAM} ${first} --help)`);
      return { help: groupHelp(first) };
    }
    const names = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.split(" ")[1]);
    throw new CliError("usage", `${first}: unknown subcommand ${JSON.stringify(second)} (one of: ${names.join(", ")})`);
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command) return { command, rest: argv.slice(1) };
  throw new CliError("usage", `unknown command ${JSON.stringify(first)} (run ${PROGRAM} --help to list them)`);
}

async function main(argv: string[]): Promise<number> {
  try {
    const found = findCommand(argv);
    if ("help" in found) {
      process.stdout.write(found.help);
      return 0;
    }
    if (wantsHelp(found.rest)) {
      process.stdout.write(renderCommandHelp(PROGRAM, found.command));
      return 0;
    }
    await found.command.run(parseCommandLine(found.command, found.rest));
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: unexpected failure: ${describeError(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
