// Help on every command and at the top level, and the one-line errors for a missing or unknown command.
import { describe, expect, it } from "vitest";
import { runCli, stderrLines } from "./support";

const COMMANDS = [
  "keys generate",
  "clients add",
  "clients update",
  "clients list",
  "clients show",
  "clients disable",
  "clients enable",
  "clients remove",
  "clients add-key",
  "clients retire-key",
  "clients revoke-tokens",
  "signing-key generate",
  "signing-key rotate",
  "token",
];

describe("help", () => {
  it("lists every command at the top level", async () => {
    const result = await runCli(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run cli -- <command> \[options\]/);
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} +\\S`, "m"));
  });

  it.each(COMMANDS)("prints the usage, options and an example of %s", async (command) => {
    const result = await runCli([...command.split(" "), "--help"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.startsWith(`Usage: npm run cli -- ${command}`)).toBe(true);
    expect(result.stdout).toMatch(/Example/);
  });

  it.each(["clients", "keys", "signing-key"])("lists the subcommands of %s", async (group) => {
    const result = await runCli([group, "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: npm run cli -- ${group} <subcommand>`));
  });

  it("names the introspection flags, and says what revoke-tokens does not do", async () => {
    expect((await runCli(["clients", "add", "--help"])).stdout).toMatch(/^ {2}--introspect +let this client call/m);
    expect((await runCli(["clients", "update", "--help"])).stdout).toMatch(/^ {2}--no-introspect +refuse the client/m);
    const help = (await runCli(["clients", "revoke-tokens", "--help"])).stdout;
    expect(help).toMatch(/It does not disable the client or change its\s+record/);
    expect(help).toMatch(/verify tokens offline/);
  });

  it("prefers --help over other mistakes on the line", async () => {
    const result = await runCli(["clients", "add", "--no-such-flag", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run cli -- clients add/);
  });

  it.each([
    { args: [], message: "error: missing command (run npm run cli -- --help to list them)" },
    { args: ["clients"], message: "error: clients: missing subcommand (run npm run cli -- clients --help)" },
    { args: ["tokens"], message: 'error: unknown command "tokens" (run npm run cli -- --help to list them)' },
  ])("refuses $args with one line and exit 2", async ({ args, message }) => {
    const result = await runCli(args);
    expect(result.status).toBe(2);
    expect(stderrLines(result)).toEqual([message]);
    expect(result.stdout).toBe("");
  });
});
