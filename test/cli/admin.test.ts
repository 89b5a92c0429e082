// The `clients` commands through the management API of a real local server (throwaway state), as an operator given by
// flags or by the environment: each change holds on the target's very next token request, a client is registered,
// updated, rotated and removed with no Cloudflare credentials, every change is audited with its actor, a client is
// let in and out of introspection, revoke-tokens makes the tokens issued before its cut-off inactive at introspection,
// and refusals and usage mistakes exit non-zero with one line.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalServer, startLocalServer } from "../../scripts/lib/local-server";
import { readSigningKeyFile } from "../../scripts/lib/private-key-file";
import { signClientAssertion } from "../../scripts/lib/token-client";
import { INTROSPECTION_PATH, JWT_BEARER_ASSERTION_TYPE } from "../../src/protocol/constants";
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
  const [ops, plain, oldKey, newKey, rs, holder] = await Promise.all([
    testKeyPair(),
    testKeyPair(),
    testKeyPairWithDashedKid(),
    testKeyPair("EdDSA"),
    testKeyPair(),
    testKeyPair(),
  ]);
  oldKid = oldKey.kid;
  await writeJson(file("ops.private.json"), ops.privateJwk);
  await writeJson(file("plain.private.json"), plain.privateJwk);
  await writeJson(file("target-old.private.json"), oldKey.privateJwk);
  await writeJson(file("target-new.private.json"), newKey.privateJwk);
  await writeJson(file("ops.public.json"), ops.publicJwk);
  await writeJson(file("plain.public.json"), plain.publicJwk);
  await writeJson(file("target.public.json"), { keys: [oldKey.publicJwk, newKey.publicJwk] });
  for (const [name, pair] of [
    ["rs", rs],
    ["holder", holder],
  ] as const) {
    await writeJson(file(`${name}.private.json`), pair.privateJwk);
    await writeJson(file(`${name}.public.json`), pair.publicJwk);
  }
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

/** The operator in the environment, as a deployment would configure the CLI once. */
const operatorEnv = () => ({
  TOKEN_SERVICE_ADMIN_KEY: file("ops.private.json"),
  TOKEN_SERVICE_ADMIN_CLIENT_ID: "ops",
  TOKEN_SERVICE_ISSUER: issuer,
});

/** A fresh access token of `clientId` (its key in `<clientId>.private.json`), through the token command. */
async function accessToken(clientId: string): Promise<string> {
  const result = await ok(
    runCli(["token", "--client-id", clientId, "--key", file(`${clientId}.private.json`), "--issuer", issuer]),
  );
  return JSON.parse(result.stdout).access_token as string;
}

/** POST <issuer>/introspect for `token`, authenticated as `rs` with a fresh private_key_jwt assertion. */
async function introspect(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const key = await readSigningKeyFile(file("rs.private.json"));
  const form = new URLSearchParams({
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: await signClientAssertion("rs", issuer, key),
    token,
  });
  const response = await fetch(issuer + INTROSPECTION_PATH, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const NEEDS_ADMIN_API =
  "error: clients revoke-tokens: needs the management API (the KV registry holds no tokens): give --admin-key <file> and --admin-client-id <id> (and --issuer <URL>), or set TOKEN_SERVICE_ADMIN_KEY and TOKEN_SERVICE_ADMIN_CLIENT_ID";

/** The server's admin audit lines printed so far. */
function adminAuditLines(): Array<Record<string, unknown>> {
  return server!
    .log()
    .split("\n")
    .flatMap((line) => {
      const at = line.indexOf('{"event":"admin_request"');
      return at < 0 ? [] : [JSON.parse(line.slice(at)) as Record<string, unknown>];
    });
}

describe("clients commands through the management API", () => {
  it("disable refuses the target's next token request; show prints the authoritative record; enable lets it in again", async () => {
    await ok(targetToken("old"));

    const disabled = await ok(runCli(["clients", "disable", "target", ...asAdmin()]));
    expect(disabled.stdout).toBe(
      `Client "target" is now disabled in the management API at ${issuer}, effective on its next token request.\n`,
    );
    const refused = await targetToken("old");
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "invalid_client" });

    const shown = JSON.parse((await ok(runCli(["clients", "show", "target", ...asAdmin()]))).stdout);
    expect(shown).toMatchObject({ client_id: "target", status: "disabled" });
    expect(shown.version).toBeGreaterThanOrEqual(2);

    const enabled = await ok(runCli(["clients", "enable", "target", ...asAdmin()]));
    expect(enabled.stdout).toBe(
      `Client "target" is now active in the management API at ${issuer}, effective on its next token request.\n`,
    );
    await ok(targetToken("old"));
  });

  it("retire-key refuses the retired key at once and keeps the other", async () => {
    const retired = await ok(runCli(["clients", "retire-key", "target", "--kid", oldKid, ...asAdmin()]));
    expect(stderrLines(retired)).toEqual([]);
    expect(retired.stdout).toBe(
      `Retired key ${oldKid} of client "target" in the management API at ${issuer}, effective on its next token request; 1 key left.\n`,
    );
    const refused = await targetToken("old");
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "invalid_client" });
    await ok(targetToken("new"));
  });

  it("registers, updates, rotates and removes a client with the operator in the environment and no wrangler", async () => {
    const [first, second] = await Promise.all([testKeyPair(), testKeyPair("EdDSA")]);
    await writeJson(file("newco-1.public.json"), first.publicJwk);
    await writeJson(file("newco-1.private.json"), first.privateJwk);
    await writeJson(file("newco-2.public.json"), second.publicJwk);
    await writeJson(file("newco-2.private.json"), second.privateJwk);
    // No flag at all: the operator in the environment sends every command to the management API; the audit lines
    // the server wrote below show each change arriving there.
    const env = operatorEnv();
    const run = (...args: string[]) => ok(runCli(args, { env }));
    const token = (n: 1 | 2) =>
      runCli([
        "token",
        "--client-id",
        "newco",
        "--key",
        file(`newco-${n}.private.json`),
        "--issuer",
        issuer,
        "--scope",
        "orders.read",
      ]);

    const added = await run(
      "clients",
      "add",
      "newco",
      "--jwks",
      file("newco-1.public.json"),
      "--scope",
      "orders.read orders.write",
    );
    expect(added.stdout).toMatch(
      /^Added client "newco" in the management API at http:\/\/127\.0\.0\.1:\d+: active, 1 key/,
    );
    await ok(token(1));

    await run("clients", "update", "newco", "--scope", "orders.read", "--rate-limit", "100/60");
    expect(JSON.parse((await run("clients", "show", "newco")).stdout)).toMatchObject({
      scopes: ["orders.read"],
      rate_limit: { requests: 100, per_seconds: 60 },
      version: 2,
    });

    await run("clients", "add-key", "newco", "--jwks", file("newco-2.public.json"));
    await ok(token(2));
    await run("clients", "retire-key", "newco", "--kid", first.kid);
    expect((await token(1)).status).toBe(1);
    await ok(token(2));

    const listed = await run("clients", "list");
    expect(listed.stdout).toMatch(/^newco\s+active\s+4\s+-\s+-/m);

    await run("clients", "remove", "newco");
    expect((await token(2)).status).toBe(1);
    expect((await runCli(["clients", "show", "newco"], { env })).status).toBe(1);

    const changes = adminAuditLines().filter(
      (line) => line.client_id === "newco" && line.outcome === "done" && line.method !== "GET",
    );
    expect(changes.map((line) => [line.method, line.operator, line.version_before, line.version_after])).toEqual([
      ["POST", "ops", 0, 1],
      ["PATCH", "ops", 1, 2],
      ["POST", "ops", 2, 3],
      ["POST", "ops", 3, 4],
      ["DELETE", "ops", 4, 5],
    ]);
  });

  it("binds a client to DPoP with update --dpop-bound, and unbinds it with --no-dpop-bound", async () => {
    const key = await testKeyPair();
    await writeJson(file("bound.public.json"), key.publicJwk);
    await writeJson(file("bound.private.json"), key.privateJwk);
    const env = operatorEnv();
    const run = (...args: string[]) => ok(runCli(args, { env }));
    // The token command sends no DPoP proof: a bound client gets nothing from it.
    const token = () =>
      runCli(["token", "--client-id", "bound", "--key", file("bound.private.json"), "--issuer", issuer]);
    await run("clients", "add", "bound", "--jwks", file("bound.public.json"), "--dpop-bound");
    expect(JSON.parse((await run("clients", "show", "bound")).stdout)).toMatchObject({
      dpop_bound_access_tokens: true,
      version: 1,
    });
    const refused = await token();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/invalid_dpop_proof/);
    const unbound = await run("clients", "update", "bound", "--no-dpop-bound");
    expect(unbound.stdout).toMatch(/^Updated dpop_bound_access_tokens of client "bound" .*\(version 2\)\.$/m);
    expect(JSON.parse((await run("clients", "show", "bound")).stdout)).not.toHaveProperty("dpop_bound_access_tokens");
    await ok(token());
    await run("clients", "update", "bound", "--dpop-bound");
    expect((await token()).status).toBe(1);
  });

  it("lets a client introspect with add --introspect, and stops it with update --no-introspect", async () => {
    const env = operatorEnv();
    const run = (...args: string[]) => ok(runCli(args, { env }));
    await run("clients", "add", "rs", "--jwks", file("rs.public.json"), "--introspect");
    expect(JSON.parse((await run("clients", "show", "rs")).stdout)).toMatchObject({ introspection: true, version: 1 });
    const token = await accessToken("rs");
    expect(await introspect(token)).toEqual({ status: 200, body: expect.objectContaining({ active: true }) });

    const closed = await run("clients", "update", "rs", "--no-introspect");
    expect(closed.stdout).toMatch(/^Updated introspection of client "rs" .*\(version 2\)\.$/m);
    expect(JSON.parse((await run("clients", "show", "rs")).stdout)).not.toHaveProperty("introspection");
    expect(await introspect(token)).toEqual({
      status: 403,
      body: expect.objectContaining({ error: "unauthorized_client" }),
    });

    await run("clients", "update", "rs", "--introspect");
    expect(JSON.parse((await run("clients", "show", "rs")).stdout)).toMatchObject({ introspection: true, version: 3 });
    expect((await introspect(token)).body).toMatchObject({ active: true, client_id: "rs" });
  });

  it("revoke-tokens: a token issued before the cut-off introspects inactive, one issued after it active", async () => {
    const env = operatorEnv();
    const run = (...args: string[]) => ok(runCli(args, { env }));
    await run("clients", "add", "holder", "--jwks", file("holder.public.json"));
    const before = await accessToken("holder");
    expect((await introspect(before)).body).toMatchObject({ active: true, client_id: "holder" });

    const revoked = await run("clients", "revoke-tokens", "holder");
    const line =
      /^Revoked every token issued to client "holder" before (\S+) \((\d+)\) in the management API at (\S+); tokens issued from then on work, and the client's record is unchanged\.\n$/.exec(
        revoked.stdout,
      );
    expect(line, revoked.stdout).not.toBeNull();
    const cutoff = Number(line![2]);
    expect(line![1]).toBe(new Date(cutoff * 1000).toISOString().replace(".000Z", "Z"));
    expect(line![3]).toBe(issuer);
    expect(cutoff).toBeGreaterThan(Math.floor(Date.now() / 1000) - 60);
    expect(await introspect(before)).toEqual({ status: 200, body: { active: false } });

    // Tokens have whole-second iat: one issued from the cut-off second on is after it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutoff * 1000 - Date.now()) + 50));
    const after = await accessToken("holder");
    expect((await introspect(after)).body).toMatchObject({ active: true, client_id: "holder" });
    expect((await introspect(before)).body).toEqual({ active: false });
    // Not a record change: the client is as it was.
    expect(JSON.parse((await run("clients", "show", "holder")).stdout)).toMatchObject({ status: "active", version: 1 });

    const again = JSON.parse((await run("clients", "revoke-tokens", "holder", "--json")).stdout);
    expect(again).toEqual({ client_id: "holder", tokens_revoked_before: expect.any(Number) });
    expect(again.tokens_revoked_before).toBeGreaterThan(cutoff);
    expect((await introspect(after)).body).toEqual({ active: false });
  });

  it.each([
    {
      name: "refuses an operator without the admin scope at the token endpoint",
      args: () => ["clients", "disable", "target", ...asAdmin("plain")],
      line: "error: invalid_scope: The requested scope is invalid or not allowed",
    },
    {
      name: "passes on the management API's refusal to retire a kid the client does not have",
      args: () => ["clients", "retire-key", "target", "--kid", "no-such-kid", ...asAdmin()],
      line: "error: invalid_request: no key with kid 'no-such-kid'",
    },
    {
      name: "says so when the client does not exist",
      args: () => ["clients", "show", "nobody", ...asAdmin()],
      line: () => `error: no client "nobody" in the management API at ${issuer}`,
    },
    {
      name: "says so when revoke-tokens names a client that does not exist",
      args: () => ["clients", "revoke-tokens", "nobody", ...asAdmin()],
      line: () => `error: no client "nobody" in the management API at ${issuer}`,
    },
  ])("$name: one line, exit 1", async ({ args, line }) => {
    const result = await runCli(args());
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([typeof line === "function" ? line() : line]);
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
      env: {},
      line: "error: clients disable: --admin-key needs --admin-client-id <id>",
    },
    {
      args: ["clients", "disable", "target"],
      env: { TOKEN_SERVICE_ADMIN_KEY: "k.json" },
      line: "error: clients disable: TOKEN_SERVICE_ADMIN_KEY needs TOKEN_SERVICE_ADMIN_CLIENT_ID",
    },
    {
      args: ["clients", "show", "target", "--admin-key", "k.json", "--admin-client-id", "ops", "--remote"],
      env: {},
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
      env: {},
      line: "error: clients enable: --persist-to does not apply with --admin-key",
    },
    {
      args: ["clients", "disable", "target", "--admin-client-id", "ops"],
      env: {},
      line: "error: clients disable: --admin-client-id applies only with --admin-key",
    },
    {
      args: ["clients", "update", "target", "--admin-key", "k.json", "--admin-client-id", "ops"],
      env: {},
      line: "error: clients update: name at least one field to change",
    },
    {
      args: ["clients", "update", "target", "--dpop-bound", "--no-dpop-bound", "--admin-key", "k.json"],
      env: {},
      line: "error: clients update: choose one of --dpop-bound and --no-dpop-bound",
    },
    {
      args: ["clients", "update", "target", "--introspect", "--no-introspect", "--admin-key", "k.json"],
      env: {},
      line: "error: clients update: choose one of --introspect and --no-introspect",
    },
    {
      args: ["clients", "revoke-tokens", "--admin-key", "k.json", "--admin-client-id", "ops"],
      env: {},
      line: "error: clients revoke-tokens: missing <client_id> (see clients revoke-tokens --help)",
    },
    {
      args: ["clients", "revoke-tokens", "target"],
      env: {},
      line: NEEDS_ADMIN_API,
    },
    {
      // The local KV bootstrap path, named even with an operator in the environment: it holds no tokens.
      args: ["clients", "revoke-tokens", "target", "--persist-to", "state"],
      env: { TOKEN_SERVICE_ADMIN_KEY: "k.json", TOKEN_SERVICE_ADMIN_CLIENT_ID: "ops" },
      line: NEEDS_ADMIN_API,
    },
  ])("usage: $line (exit 2)", async ({ args, env, line }) => {
    const result = await runCli(args, { env });
    expect(result.status).toBe(2);
    expect(stderrLines(result)).toEqual([line]);
    expect(result.stdout).toBe("");
  });
});
