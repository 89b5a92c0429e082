// The CLI's argument parser in process: values that start with a dash (base64url kids do, one in 64) are taken
// as values, while a missing value, a flag in value position and anything after `--` keep their meaning.
import { describe, expect, it } from "vitest";
import { CliError } from "../../scripts/lib/cli-error";
import { type Command, joinDashedValues, parseCommandLine } from "../../scripts/lib/command-line";

const command: Command = {
  name: "clients retire-key",
  summary: "",
  usage: "",
  help: "",
  options: { kid: { type: "string" }, kty: { type: "string" }, force: { type: "boolean", short: "f" } },
  positionals: ["client_id"],
  run: async () => undefined,
};

function refusal(argv: string[]): string {
  try {
    parseCommandLine(command, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("command line parsing", () => {
  it("takes a kid that starts with a dash as the value of --kid", () => {
    const parsed = parseCommandLine(command, ["acme", "--kid", "-Xy_4q9", "--kty", "EC"]);
    expect(parsed.values).toMatchObject({ kid: "-Xy_4q9", kty: "EC" });
    expect(parsed.positionals).toEqual(["acme"]);
  });

  it("takes a kid that starts with two dashes, and a lone dash, as values", () => {
    expect(parseCommandLine(command, ["acme", "--kid", "--abc"]).values.kid).toBe("--abc");
    expect(parseCommandLine(command, ["acme", "--kid", "-"]).values.kid).toBe("-");
  });

  it("still refuses --kid followed by one of the command's own flags", () => {
    expect(refusal(["acme", "--kid", "--kty", "EC"])).toBe("clients retire-key: --kid needs a value");
    expect(refusal(["acme", "--kid", "-f"])).toBe("clients retire-key: --kid needs a value");
  });

  it("still refuses --kid with nothing after it", () => {
    expect(refusal(["acme", "--kid"])).toBe("clients retire-key: --kid needs a value");
  });

  it("leaves the words after a -- separator alone", () => {
    expect(joinDashedValues(command.options, ["--kid", "k", "--", "--kid", "-x"])).toEqual([
      "--kid",
      "k",
      "--",
      "--kid",
      "-x",
    ]);
  });

  it("does not join after a boolean flag or an option written with =", () => {
    expect(joinDashedValues(command.options, ["--force", "-x"])).toEqual(["--force", "-x"]);
    expect(joinDashedValues(command.options, ["--kid=a", "-x"])).toEqual(["--kid=a", "-x"]);
  });
});
