// `signing-key generate` and `signing-key rotate`: values the Worker accepts (its own parser checks them), the
// new key first and previous keys kept, .dev.vars rewritten in place without losing other lines, refusals.
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSigningKeys } from "../../src/issuer/signing-keys";
import { runCli, stderrLines, temporaryFolder } from "./support";

let folder: { path: string; remove(): Promise<void> };
const file = (name: string) => join(folder.path, name);

beforeAll(async () => {
  folder = await temporaryFolder("signing-key");
});

afterAll(async () => {
  await folder?.remove();
});

function kids(value: string): string[] {
  return parseSigningKeys(value).map((key) => key.kid);
}

describe("signing-key generate", () => {
  it("prints only a SIGNING_KEYS value on stdout: one ES256 private key the Worker accepts", async () => {
    const result = await runCli(["signing-key", "generate"]);
    expect(result.status, result.stderr).toBe(0);
    const parsed = parseSigningKeys(result.stdout.trim());
    expect(parsed).toHaveLength(1);
    expect(parsed[0]!.alg).toBe("ES256");
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(`kid ${parsed[0]!.kid}`);
  });

  it.each(["EdDSA", "PS256"])("makes a %s key with --alg", async (alg) => {
    const result = await runCli(["signing-key", "generate", "--alg", alg]);
    expect(result.status, result.stderr).toBe(0);
    expect(parseSigningKeys(result.stdout.trim())[0]!.alg).toBe(alg);
  });

  it("rejects an algorithm the service cannot sign with", async () => {
    const result = await runCli(["signing-key", "generate", "--alg", "HS256"]);
    expect(result.status).toBe(2);
    expect(stderrLines(result)).toEqual([
      "error: signing-key generate: --alg must be one of ES256, ES384, PS256, RS256, EdDSA",
    ]);
    expect(result.stdout).toBe("");
  });
});

describe("signing-key rotate", () => {
  let current: string;

  beforeAll(async () => {
    current = (await runCli(["signing-key", "generate"])).stdout.trim();
    await writeFile(file("current.json"), current);
  });

  it("puts a new active key in front of the current keys read from a file", async () => {
    const result = await runCli(["signing-key", "rotate", "--from", file("current.json")]);
    expect(result.status, result.stderr).toBe(0);
    const next = result.stdout.trim();
    expect(kids(next)).toHaveLength(2);
    expect(kids(next)[1]).toBe(kids(current)[0]);
    expect(kids(next)[0]).not.toBe(kids(current)[0]);
    expect(parseSigningKeys(next)[0]!.alg).toBe("ES256");
  });

  it("reads the current value from stdin with --from -, and bounds the kept keys with --keep", async () => {
    const three = (
      await runCli(["signing-key", "rotate", "--from", "-", "--keep", "5"], {
        input: (await runCli(["signing-key", "rotate", "--from", file("current.json")])).stdout,
      })
    ).stdout.trim();
    expect(kids(three)).toHaveLength(3);
    const kept = await runCli(["signing-key", "rotate", "--from", "-", "--keep", "1", "--alg", "EdDSA"], {
      input: three,
    });
    expect(kept.status, kept.stderr).toBe(0);
    const next = kept.stdout.trim();
    expect(kids(next)).toEqual([expect.any(String), kids(three)[0]]);
    expect(parseSigningKeys(next)[0]!.alg).toBe("EdDSA");
  });

  it("updates SIGNING_KEYS in a .dev.vars file in place, keeping its other lines and mode 0600", async () => {
    const devVars = file("dev.vars");
    await writeFile(devVars, `# local secrets\nOTHER=1\nSIGNING_KEYS='${current}'\nLAST="x"\n`, { mode: 0o600 });
    const result = await runCli(["signing-key", "rotate", "--dev-vars", devVars, "--in-place"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Rotated SIGNING_KEYS in /);
    const lines = (await readFile(devVars, "utf8")).split("\n");
    expect(lines[0]).toBe("# local secrets");
    expect(lines[1]).toBe("OTHER=1");
    expect(lines[3]).toBe('LAST="x"');
    const value = /^SIGNING_KEYS='(.*)'$/.exec(lines[2]!)![1]!;
    expect(kids(value)).toEqual([expect.any(String), kids(current)[0]]);
    expect((await stat(devVars)).mode & 0o777).toBe(0o600);
  });

  it.each([
    {
      name: "rejects a file that is not a JWK Set",
      setup: () => writeFile(file("bad.json"), '{"keys":[]}'),
      args: () => ["--from", file("bad.json")],
      status: 1,
      message: 'SIGNING_KEYS: expected a JWK Set: {"keys":[...]} with at least one key',
    },
    {
      name: "rejects public keys (no private part)",
      setup: () =>
        writeFile(file("public.json"), JSON.stringify({ keys: [{ ...JSON.parse(current).keys[0], d: undefined }] })),
      args: () => ["--from", file("public.json")],
      status: 1,
      message: "is not a private key",
    },
    {
      name: "rejects a .dev.vars file without SIGNING_KEYS",
      setup: () => writeFile(file("empty.vars"), "OTHER=1\n"),
      args: () => ["--dev-vars", file("empty.vars"), "--in-place"],
      status: 1,
      message: "has no SIGNING_KEYS line",
    },
    {
      name: "rejects --in-place with --from",
      setup: async () => {},
      args: () => ["--from", file("current.json"), "--in-place"],
      status: 2,
      message: "--in-place rewrites the .dev.vars file it read",
    },
    {
      name: "rejects --from with --dev-vars",
      setup: async () => {},
      args: () => ["--from", file("current.json"), "--dev-vars", file("dev.vars")],
      status: 2,
      message: "choose one input, --from or --dev-vars",
    },
    {
      name: "rejects a --keep out of range",
      setup: async () => {},
      args: () => ["--from", file("current.json"), "--keep", "11"],
      status: 2,
      message: "--keep must be a whole number from 0 to 10",
    },
  ])("$name", async ({ setup, args, status, message }) => {
    await setup();
    const devVarsBefore = await readFile(file("dev.vars"), "utf8").catch(() => null);
    const result = await runCli(["signing-key", "rotate", ...args()]);
    expect(result.status).toBe(status);
    expect(stderrLines(result)).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
    expect(await readFile(file("dev.vars"), "utf8").catch(() => null)).toBe(devVarsBefore);
  });
});
