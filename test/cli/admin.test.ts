// `clients disable|enable|retire-key|show --admin-key` against a real local server (throwaway state): each change
// holds on the target's very next token request; refusals and usage mistakes exit non-zero with one line.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalServer, startLocalServer } from "../../scripts/lib/local-server";
import {
  type CliResult,
  runCli,
  stderrLines,
  temporaryFolder,
  testKeyPair,
  testKeyPairWithDashedKid,
  writeJson,
} from "./support";

let folder: { path: string; remove(): Promise<void> };
let server: LocalServer | undefined;
let issuer: string;
let oldKid: string;
const file = (name: string) => join(folder.path, name);

async function ok(result: Promise<CliResult>): Promise<CliResult> {
  const done = await result;
  expect(done.status, done.stderr).toBe(0);
  return done;
}

/** The operator flags: `ops` (admin scope) unless another operator is named. */
const asAdmin = (operator = "ops") => [
  "--admin-key",
  file(`${operator}.private.json`),
  "--admin-client-id",
  operator,
  "--issuer",
  issuer,
];

const targetToken = (key: "old" | "new") =>
  runCli(["token", "--client-id", "target", "--key", file(`target-${key}.private.json`), "--issuer", issuer]);

beforeAll(async () => {
  folder = await temporaryFolder("admin");
  const state = file("state");
  server = await startLocalServer({ persistTo: state });
  issuer = server.issuer;
  const [ops, plain, oldKey, newKey] = await Promise.all([
    testKeyPair(),
    testKeyPair(),
    testKeyPairWithDashedKid(),
    testKeyPair("EdDSA"),
  ]);
  oldKid = oldKey.kid;
  await writeJson(file("ops.private.json"), ops.privateJwk);
  await writeJson(file("plain.private.json"), plain.privateJwk);
  await writeJson(file("target-old.private.json"), oldKey.privateJwk);
  await writeJson(file("target-new.private.json"), newKey.privateJwk);
  await writeJson(file("ops.public.json"), ops.publicJwk);
  await writeJson(file("plain.public.json"), plain.publicJwk);
  await writeJson(file("target.public.json"), { keys: [oldKey.publicJwk, newKey.publicJwk] });
  // Registered one after the other: wrangler kv writes to one local state folder.
  await ok(
    runCli([
      "clients",
      "add",
      "ops",
      "--jwks",
      file("ops.public.json"),
      "--scope",
      "admin",
      "--audience",
      `${issuer}/admin`,
      "--persist-to",
      state,
    ]),
  );
  await ok(
    runCli([
      "clients",
      "add",
      "plain",
      "--jwks",
      file("plain.public.json"),
      "--scope",
      "orders.read",
      "--audience",
      `${issuer}/admin`,
      "--persist-to",
      state,
    ]),
  );
  await ok(
    runCli([
      "clients",
      "add",
      "target",
      "--jwks",
      file("target.public.json"),
      "--scope",
      "orders.read",
      "--persist-to",
      state,
    ]),
  );
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await folder?.remove();
});

describe("clients commands through the admin API", () => {
  it("disable refuses the target's next token request; show reports the kill switch; enable lets it in again", async () => {
    await ok(targetToken("old"));

    const disabled = await ok(runCli(["clients", "disable", "target", ...asAdmin()]));
    expect(disabled.stdout).toBe(
      `Client "target" is now disabled through the admin API at ${issuer}, effective on its next token request.\n`,
    );
    const refused = await targetToken("old");
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "invalid_client" });

    const shown = await ok(runCli(["clients", "show", "target", ...asAdmin()]));
    expect(JSON.parse(shown.stdout)).toEqual({
      client_id: "target",
      registry_status: "disabled",
      kill_switch: { client: true, kids: [] },
    });

    const enabled = await ok(runCli(["clients", "enable", "target", ...asAdmin()]));
    expect(enabled.stdout).toBe(
      `Client "target" is now active through the admin API at ${issuer}, effective on its next token request.\n`,
    );
    await ok(targetToken("old"));
  });

  it("retire-key refuses the retired key at once and keeps the other; show lists the kid", async () => {
    const retired = await ok(runCli(["clients", "retire-key", "target", "--kid", oldKid, ...asAdmin()]));
    expect(stderrLines(retired)).toEqual([]);
    expect(retired.stdout).toMatch(new RegExp(`^Retired key ${oldKid} of client "target" through the admin API`));
    const refused = await targetToken("old");
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "invalid_client" });
    await ok(targetToken("new"));

    const shown = await ok(runCli(["clients", "show", "target", ...asAdmin()]));
    expect(JSON.parse(shown.stdout)).toEqual({
      client_id: "target",
      registry_status: "active",
      kill_switch: { client: false, kids: [oldKid] },
    });
  });

  it.each([
    {
      name: "refuses an operator without the admin scope at the token endpoint",
      args: () => ["clients", "disable", "target", ...asAdmin("plain")],
      line: "error: invalid_scope: The requested scope is invalid or not allowed",
    },
    {
      name: "passes on the admin API's refusal to retire a kid the client does not have",
      args: () => ["clients", "retire-key", "target", "--kid", "no-such-kid", ...asAdmin()],
      line: "error: invalid_request: The admin request cannot be applied",
    },
    {
      name: "passes on the admin API's 404 for an unknown client",
      args: () => ["clients", "show", "nobody", ...asAdmin()],
      line: "error: invalid_request: No such client",
    },
  ])("$name: one line, exit 1", async ({ args, line }) => {
    const result = await runCli(args());
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([line]);
    expect(result.stdout).toBe("");
  });

  it("calls the server, never wrangler: an unreachable issuer is the error", async () => {
    const port = await freePort();
    const result = await runCli([
      "clients",
      "enable",
      "target",
      "--admin-key",
      file("ops.private.json"),
      "--admin-client-id",
      "ops",
      "--issuer",
      `http://127.0.0.1:${port}`,
    ]);
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([
      `error: cannot reach http://127.0.0.1:${port}/.well-known/oauth-authorization-server: ECONNREFUSED`,
    ]);
  });

  it.each([
    {
      args: ["clients", "disable", "target", "--admin-key", "k.json"],
      line: "error: clients disable: --admin-key needs --admin-client-id <id>",
    },
    {
      args: ["clients", "show", "target", "--admin-key", "k.json", "--admin-client-id", "ops", "--remote"],
      line: "error: clients show: --remote does not apply with --admin-key",
    },
    {
      args: [
        "clients",
        "enable",
        "target",
        "--admin-key",
        "k.json",
        "--admin-client-id",
        "ops",
        "--persist-to",
        "state",
      ],
      line: "error: clients enable: --persist-to does not apply with --admin-key",
    },
    {
      args: ["clients", "disable", "target", "--admin-client-id", "ops"],
      line: "error: clients disable: --admin-client-id applies only with --admin-key",
    },
    {
      args: [
        "clients",
        "retire-key",
        "target",
        "--kid",
        "k",
        "--kty",
        "EC",
        "--admin-key",
        "k.json",
        "--admin-client-id",
        "ops",
      ],
      line: "error: clients retire-key: --kty does not apply with --admin-key (the admin API retires a kid)",
    },
  ])("usage: $line (exit 2)", async ({ args, line }) => {
    const result = await runCli(args);
    expect(result.status).toBe(2);
    expect(stderrLines(result)).toEqual([line]);
    expect(result.stdout).toBe("");
  });
});
