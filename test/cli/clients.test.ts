// The registry commands doing their job against throwaway local state: add (JWK, JWK Set, SPKI PEM of every
// accepted type, every record flag), overwrite, update (--introspect / --no-introspect), list, show, disable/enable,
// add-key/retire-key, remove.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportSPKI, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvPut } from "../../scripts/lib/wrangler-kv";
import { runCli, type TestKeyPair, temporaryFolder, testKeyPair, testKeyPairWithDashedKid, writeJson } from "./support";

let folder: { path: string; remove(): Promise<void> };
let state: string;
let first: TestKeyPair;
let second: TestKeyPair;
const file = (name: string) => join(folder.path, name);
const cli = (...args: string[]) => runCli([...args, "--persist-to", state]);

async function showRecord(clientId: string): Promise<Record<string, unknown>> {
  const result = await cli("clients", "show", clientId);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  folder = await temporaryFolder("clients");
  state = file("state");
  // A kid starting with "-" goes through every command below, as one thumbprint in 64 does in real use.
  first = await testKeyPairWithDashedKid();
  second = await testKeyPair("EdDSA");
});

afterAll(async () => {
  await folder?.remove();
});

describe("clients commands", () => {
  it("lists an empty registry", async () => {
    const result = await cli("clients", "list");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(`No clients in the local registry at ${state}.\n`);
  });

  it("adds a client from a JWK Set with every record field, giving a kid-less key its thumbprint", async () => {
    const named = { ...second.publicJwk, kid: "ed-2026" };
    await writeJson(file("set.json"), { keys: [first.publicJwk, named] });
    const result = await cli(
      "clients",
      "add",
      "acme",
      "--jwks",
      file("set.json"),
      "--scope",
      "orders.read orders.write",
      "--scope",
      "admin",
      "--default-scope",
      "orders.read",
      "--audience",
      "https://api.example.com",
      "--audience",
      "https://reports.example.com",
      "--token-ttl",
      "300",
      "--name",
      "Acme Corp",
      "--disabled",
      "--legacy-audience",
      "--dpop-bound",
      "--introspect",
      "--rate-limit",
      "100/60",
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Added client "acme" in the local registry at .*: disabled, 2 keys/);
    expect(await showRecord("acme")).toEqual({
      client_id: "acme",
      name: "Acme Corp",
      status: "disabled",
      jwks: { keys: [{ ...first.publicJwk, kid: first.kid }, named] },
      scopes: ["orders.read", "orders.write", "admin"],
      default_scopes: ["orders.read"],
      audiences: ["https://api.example.com", "https://reports.example.com"],
      token_ttl: 300,
      legacy_audience: true,
      dpop_bound_access_tokens: true,
      introspection: true,
      rate_limit: { requests: 100, per_seconds: 60 },
    });
  });

  it("adds a client from SPKI PEM keys of every accepted type (P-256, P-384, P-521, RSA, Ed25519)", async () => {
    const algs = [
      ["ES256"],
      ["ES384"],
      ["ES512"],
      ["RS256", { modulusLength: 2048 }],
      ["EdDSA", { crv: "Ed25519" }],
    ] as const;
    const pems: string[] = [];
    const kids: string[] = [];
    for (const [alg, options] of algs) {
      const { publicKey } = await generateKeyPair(alg, { extractable: true, ...(options ?? {}) });
      pems.push(await exportSPKI(publicKey));
      kids.push(await calculateJwkThumbprint((await crypto.subtle.exportKey("jwk", publicKey)) as never));
    }
    await writeFile(file("all.pem"), pems.join("\n"));
    const result = await cli("clients", "add", "pem-client", "--jwks", file("all.pem"));
    expect(result.status, result.stderr).toBe(0);
    const record = await showRecord("pem-client");
    const keys = (record.jwks as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys.map((k) => [k.kty, k.crv])).toEqual([
      ["EC", "P-256"],
      ["EC", "P-384"],
      ["EC", "P-521"],
      ["RSA", undefined],
      ["OKP", "Ed25519"],
    ]);
    expect(keys.map((k) => k.kid)).toEqual(kids);
    expect(record).toMatchObject({ status: "active", scopes: [], audiences: [] });
  });

  it("overwrites an existing record with clients add, and says so", async () => {
    await writeJson(file("first.jwk"), first.publicJwk);
    const result = await cli("clients", "add", "acme", "--jwks", file("first.jwk"), "--scope", "orders.read");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Replaced the existing record of client "acme"/);
    expect(await showRecord("acme")).toEqual({
      client_id: "acme",
      status: "active",
      jwks: { keys: [{ ...first.publicJwk, kid: first.kid }] },
      scopes: ["orders.read"],
      audiences: [],
    });
  });

  it("lets a client introspect with update --introspect, and takes it back with --no-introspect", async () => {
    const opened = await cli("clients", "update", "acme", "--introspect");
    expect(opened.status, opened.stderr).toBe(0);
    expect(opened.stdout).toBe(`Updated introspection of client "acme" in the local registry at ${state}.\n`);
    expect(await showRecord("acme")).toMatchObject({ introspection: true, scopes: ["orders.read"] });
    const closed = await cli("clients", "update", "acme", "--no-introspect");
    expect(closed.status, closed.stderr).toBe(0);
    const record = await showRecord("acme");
    expect(record).not.toHaveProperty("introspection");
    expect(record).toMatchObject({ client_id: "acme", status: "active", scopes: ["orders.read"] });
  });

  it("lists clients as a table and as JSON", async () => {
    const table = await cli("clients", "list");
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^CLIENT_ID\s+STATUS\s+VERSION\s+KEYS\s+SCOPES\s+NAME$/);
    expect(table.stdout).toMatch(/^acme\s+active\s+-\s+1\s+orders\.read$/m);
    expect(table.stdout).toMatch(/^pem-client\s+active\s+-\s+5\s+-$/m);
    const json = await cli("clients", "list", "--json");
    expect((JSON.parse(json.stdout) as Array<{ client_id: string }>).map((r) => r.client_id)).toEqual([
      "acme",
      "pem-client",
    ]);
  });

  it("disables and enables a client, and leaves an already-disabled one alone", async () => {
    expect((await cli("clients", "disable", "acme")).stdout).toMatch(/"acme" is now disabled/);
    // The second disable reads the stored record: it proves the first one was written.
    const again = await cli("clients", "disable", "acme");
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already disabled; nothing changed/);
    expect((await cli("clients", "enable", "acme")).stdout).toMatch(/"acme" is now active/);
    expect((await showRecord("acme")).status).toBe("active");
  });

  it("rotates a client key: add-key keeps the old key, retire-key removes it", async () => {
    await writeFile(file("second.pem"), second.publicPem);
    const added = await cli("clients", "add-key", "acme", "--jwks", file("second.pem"));
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/it now has 2 keys/);

    const retired = await cli("clients", "retire-key", "acme", "--kid", first.kid);
    expect(retired.status, retired.stderr).toBe(0);
    expect(retired.stdout).toMatch(/1 key left/);
    const keys = ((await showRecord("acme")).jwks as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys).toEqual([{ ...second.publicJwk, kid: second.kid }]);
  });

  it("adds a client whose keys live at a jwks_uri, and sends its key rotation there", async () => {
    const uri = "https://billing.example.com/.well-known/jwks.json";
    const added = await cli("clients", "add", "billing", "--jwks-uri", uri, "--scope", "invoices.read");
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toMatch(
      /^Added client "billing" in the local registry at .*: active, keys at https:\/\/billing\.example\.com/,
    );
    expect(await showRecord("billing")).toEqual({
      client_id: "billing",
      status: "active",
      jwks_uri: uri,
      scopes: ["invoices.read"],
      audiences: [],
    });
    const addKey = await cli("clients", "add-key", "billing", "--jwks", file("first.jwk"));
    expect(addKey.status).toBe(1);
    expect(addKey.stderr).toBe(`error: client "billing": the client publishes its keys at ${uri}: rotate them there\n`);
  });

  it("keeps record members it does not know when changing a record", async () => {
    const record = {
      client_id: "legacy",
      status: "active",
      jwks: { keys: [first.publicJwk] },
      scopes: [],
      audiences: [],
      contact: "ops@example.com",
    };
    await kvPut({ kind: "local", persistTo: state }, "client:legacy", JSON.stringify(record));
    expect((await cli("clients", "disable", "legacy")).status).toBe(0);
    expect(await showRecord("legacy")).toEqual({ ...record, status: "disabled" });
  });

  it("refuses to change a record its authority holds, pointing to the management API, and writes nothing", async () => {
    const record = {
      client_id: "held",
      status: "active",
      jwks: { keys: [first.publicJwk] },
      scopes: [],
      audiences: [],
      version: 4,
    };
    await kvPut({ kind: "local", persistTo: state }, "client:held", JSON.stringify(record));
    for (const args of [
      ["disable", "held"],
      ["remove", "held"],
      ["retire-key", "held", "--kid", first.kid],
    ]) {
      const result = await cli("clients", ...args);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        'error: client "held" is held by its authority (version 4): change it through the management API (--admin-key and --admin-client-id, or TOKEN_SERVICE_ADMIN_KEY and TOKEN_SERVICE_ADMIN_CLIENT_ID)\n',
      );
    }
    expect(await showRecord("held")).toEqual(record);
  });

  it("shows a stored record the Worker would refuse, and exits 1 saying why", async () => {
    await kvPut(
      { kind: "local", persistTo: state },
      "client:broken",
      JSON.stringify({ client_id: "broken", status: "paused" }),
    );
    const result = await cli("clients", "show", "broken");
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ client_id: "broken", status: "paused" });
    expect(result.stderr).toBe(
      'error: the stored record of "broken" is invalid: status must be "active" or "disabled"\n',
    );
  });

  it("removes a client", async () => {
    const removed = await cli("clients", "remove", "acme");
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^Removed client "acme"/);
    const shown = await cli("clients", "show", "acme");
    expect(shown.status).toBe(1);
    expect(shown.stderr).toMatch(/no client "acme"/);
  });
});
