// Every refusal of the registry commands: bad keys (private material, symmetric, short RSA, unknown types and
// curves, duplicate kids) and bad flags. Each must print one line on stderr, exit non-zero and write nothing.
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  folderFingerprint,
  PROJECT_ROOT,
  runCli,
  stderrLines,
  type TestKeyPair,
  temporaryFolder,
  testKeyPair,
  writeJson,
} from "./support";

let folder: { path: string; remove(): Promise<void> };
let state: string;
let registered: TestKeyPair;
let other: TestKeyPair;
let registrySnapshot: string;
const file = (name: string) => join(folder.path, name);

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

beforeAll(async () => {
  folder = await temporaryFolder("refusals");
  state = file("state");
  registered = await testKeyPair("ES256");
  other = await testKeyPair("ES256");
  const rsa = await testKeyPair("RS256");

  // Short RSA and X25519 keys come straight from WebCrypto: jose refuses to make them.
  const shortRsa = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const x25519 = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;

  await writeJson(file("registered.public.jwk"), registered.publicJwk);
  await writeJson(file("private-ec.jwk"), registered.privateJwk);
  await writeJson(file("private-rsa.jwk"), rsa.privateJwk);
  await writeFile(file("private.pem"), registered.privatePem);
  await writeJson(file("mixed-set.json"), { keys: [other.publicJwk, registered.privateJwk] });
  await writeJson(file("oct.jwk"), { kty: "oct", k: b64url(crypto.getRandomValues(new Uint8Array(32))) });
  await writeJson(file("oct-set.json"), { keys: [{ kty: "oct", k: "c2VjcmV0", kid: "hmac" }] });
  await writeJson(file("rsa-1024.jwk"), await crypto.subtle.exportKey("jwk", shortRsa.publicKey));
  await writeFile(file("rsa-1024.pem"), pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", shortRsa.publicKey)));
  await writeJson(file("unknown-kty.jwk"), { kty: "DSA", y: "AQAB" });
  const coordinate = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
  await writeJson(file("secp256k1.jwk"), { kty: "EC", crv: "secp256k1", x: coordinate(), y: coordinate() });
  await writeFile(file("x25519.pem"), pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", x25519.publicKey)));
  await writeJson(file("duplicate-kids.json"), {
    keys: [
      { ...registered.publicJwk, kid: "k1" },
      { ...other.publicJwk, kid: "k1" },
    ],
  });
  await writeJson(file("same-key-twice.json"), { keys: [registered.publicJwk, registered.publicJwk] });
  await writeJson(file("same-kid-as-registered.jwk"), { ...other.publicJwk, kid: registered.kid });
  await writeJson(file("empty-set.json"), { keys: [] });
  await writeFile(file("not-a-key.txt"), "hello\n");
  await writeFile(file("certificate.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  await writeJson(file("other.public.jwk"), other.publicJwk);

  const seeded = await runCli([
    "clients",
    "add",
    "acme",
    "--jwks",
    file("registered.public.jwk"),
    "--scope",
    "read",
    "--persist-to",
    state,
  ]);
  expect(seeded.status, seeded.stderr).toBe(0);
  registrySnapshot = (await runCli(["clients", "list", "--json", "--persist-to", state])).stdout;
  expect(JSON.parse(registrySnapshot)).toHaveLength(1);
}, 120_000);

afterAll(async () => {
  await folder?.remove();
});

function expectRefusal(result: CliResult, status: number, message: string | RegExp): void {
  expect(result.status, `exit status (stderr: ${result.stderr})`).toBe(status);
  const lines = stderrLines(result);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  if (typeof message === "string") expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  expect(result.stdout).toBe("");
}

// Refusals decided before the registry is touched: not one file of the local state may change.
const beforeAnyWrite: Array<{ name: string; args: () => string[]; status: number; message: string | RegExp }> = [
  {
    name: "rejects a private EC JWK",
    args: () => ["clients", "add", "acme", "--jwks", file("private-ec.jwk")],
    status: 1,
    message: "the key contains private key material: register the public key only",
  },
  {
    name: "rejects a private RSA JWK",
    args: () => ["clients", "add", "acme", "--jwks", file("private-rsa.jwk")],
    status: 1,
    message: "the key contains private key material",
  },
  {
    name: "rejects a PEM private key",
    args: () => ["clients", "add", "acme", "--jwks", file("private.pem")],
    status: 1,
    message: "the file contains private key material (PEM PRIVATE KEY)",
  },
  {
    name: "rejects a JWK Set when one key is private",
    args: () => ["clients", "add", "acme", "--jwks", file("mixed-set.json")],
    status: 1,
    message: "key 2: the key contains private key material",
  },
  {
    name: "rejects a symmetric (oct) JWK",
    args: () => ["clients", "add", "acme", "--jwks", file("oct.jwk")],
    status: 1,
    message: "symmetric (oct) keys are refused",
  },
  {
    name: "rejects a JWK Set holding a symmetric key",
    args: () => ["clients", "add", "acme", "--jwks", file("oct-set.json")],
    status: 1,
    message: "symmetric (oct) keys are refused",
  },
  {
    name: "rejects an RSA JWK under 2048 bits",
    args: () => ["clients", "add", "acme", "--jwks", file("rsa-1024.jwk")],
    status: 1,
    message: "RSA keys must be at least 2048 bits (this one has 1024)",
  },
  {
    name: "rejects an RSA PEM key under 2048 bits",
    args: () => ["clients", "add", "acme", "--jwks", file("rsa-1024.pem")],
    status: 1,
    message: "RSA keys must be at least 2048 bits (this one has 1024)",
  },
  {
    name: "rejects an unknown key type",
    args: () => ["clients", "add", "acme", "--jwks", file("unknown-kty.jwk")],
    status: 1,
    message: 'unsupported key type "DSA"',
  },
  {
    name: "rejects an unknown EC curve",
    args: () => ["clients", "add", "acme", "--jwks", file("secp256k1.jwk")],
    status: 1,
    message: 'unsupported curve "secp256k1" for EC',
  },
  {
    name: "rejects an X25519 (key agreement) PEM key",
    args: () => ["clients", "add", "acme", "--jwks", file("x25519.pem")],
    status: 1,
    message: 'unsupported curve "X25519" for OKP',
  },
  {
    name: "rejects two keys of one type sharing a kid",
    args: () => ["clients", "add", "acme", "--jwks", file("duplicate-kids.json")],
    status: 1,
    message: 'two EC keys share the kid "k1"',
  },
  {
    name: "rejects the same key twice (equal thumbprints)",
    args: () => ["clients", "add", "acme", "--jwks", file("same-key-twice.json")],
    status: 1,
    message: "two EC keys share the kid",
  },
  {
    name: "rejects an empty JWK Set",
    args: () => ["clients", "add", "acme", "--jwks", file("empty-set.json")],
    status: 1,
    message: "the JWK Set holds no keys",
  },
  {
    name: "rejects a file that is not a key",
    args: () => ["clients", "add", "acme", "--jwks", file("not-a-key.txt")],
    status: 1,
    message: "neither JSON (a JWK or JWK Set) nor a PEM public key",
  },
  {
    name: "rejects a PEM certificate",
    args: () => ["clients", "add", "acme", "--jwks", file("certificate.pem")],
    status: 1,
    message: 'PEM CERTIFICATE is not a public key: expected "BEGIN PUBLIC KEY" (SPKI)',
  },
  {
    name: "rejects a missing key file",
    args: () => ["clients", "add", "acme", "--jwks", file("nope.jwk")],
    status: 1,
    message: "ENOENT",
  },
  {
    name: "rejects a private key in add-key",
    args: () => ["clients", "add-key", "acme", "--jwks", file("private-ec.jwk")],
    status: 1,
    message: "the key contains private key material",
  },
  {
    name: "rejects an oct key in add-key",
    args: () => ["clients", "add-key", "acme", "--jwks", file("oct.jwk")],
    status: 1,
    message: "symmetric (oct) keys are refused",
  },
  {
    name: "rejects an unknown option",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--scopes", "a"],
    status: 2,
    message: "clients add: unknown option --scopes",
  },
  {
    name: "rejects add without --jwks or --jwks-uri",
    args: () => ["clients", "add", "acme"],
    status: 2,
    message: "clients add: --jwks <file> or --jwks-uri <url> is required",
  },
  {
    name: "rejects add with both --jwks and --jwks-uri",
    args: () => [
      "clients",
      "add",
      "acme",
      "--jwks",
      file("other.public.jwk"),
      "--jwks-uri",
      "https://acme.example.com/jwks.json",
    ],
    status: 2,
    message: "clients add: choose one of --jwks and --jwks-uri",
  },
  {
    name: "rejects a plain-http jwks_uri on a public host",
    args: () => ["clients", "add", "acme", "--jwks-uri", "http://acme.example.com/jwks.json"],
    status: 1,
    message: "jwks_uri must use https (http only for localhost)",
  },
  {
    name: "rejects a jwks_uri at an IP address: the service would fetch inside someone's network",
    args: () => ["clients", "add", "acme", "--jwks-uri", "https://10.0.0.5/jwks.json"],
    status: 1,
    message: "jwks_uri must name its host, not an IP address",
  },
  {
    name: "rejects add without a client_id",
    args: () => ["clients", "add", "--jwks", file("other.public.jwk")],
    status: 2,
    message: "clients add: missing <client_id>",
  },
  {
    name: "rejects a second positional argument",
    args: () => ["clients", "add", "acme", "extra", "--jwks", file("other.public.jwk")],
    status: 2,
    message: 'unexpected argument "extra"',
  },
  {
    name: "rejects a client_id with non-ASCII characters",
    args: () => ["clients", "add", "acmé", "--jwks", file("other.public.jwk")],
    status: 2,
    message: "client_id must be 1 to 256 printable ASCII characters",
  },
  {
    name: "rejects a --token-ttl that is not a number",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--token-ttl", "10m"],
    status: 2,
    message: "--token-ttl must be a positive whole number of seconds",
  },
  {
    name: "rejects a --token-ttl of zero",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--token-ttl", "0"],
    status: 2,
    message: "--token-ttl must be a positive whole number of seconds",
  },
  {
    name: "rejects a --rate-limit without a period",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--rate-limit", "100"],
    status: 2,
    message: "--rate-limit must be <requests>/<seconds>, e.g. 100/60",
  },
  {
    name: "rejects a value given to --legacy-audience",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--legacy-audience=no"],
    status: 2,
    message: "clients add: --legacy-audience takes no value",
  },
  {
    name: "rejects a scope with a forbidden character",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--scope", 'read "write"'],
    status: 1,
    message: "scopes holds an invalid entry",
  },
  {
    name: "rejects a duplicate scope",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--scope", "read read"],
    status: 1,
    message: "scopes holds duplicates",
  },
  {
    name: "rejects default scopes outside the scopes",
    args: () => [
      "clients",
      "add",
      "acme",
      "--jwks",
      file("other.public.jwk"),
      "--scope",
      "read",
      "--default-scope",
      "write",
    ],
    status: 1,
    message: "default_scopes must be a subset of scopes",
  },
  {
    name: "rejects an audience that is not an absolute URI",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--audience", "api.example.com"],
    status: 1,
    message: "audiences holds an invalid entry",
  },
  {
    name: "rejects an audience with a fragment",
    args: () => [
      "clients",
      "add",
      "acme",
      "--jwks",
      file("other.public.jwk"),
      "--audience",
      "https://api.example.com/#x",
    ],
    status: 1,
    message: "audiences holds an invalid entry",
  },
  {
    name: "rejects a name over 200 characters",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--name", "n".repeat(201)],
    status: 1,
    message: "name must be a string of at most 200 characters",
  },
  {
    name: "rejects a value given to --disabled",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--disabled=yes"],
    status: 2,
    message: "clients add: --disabled takes no value",
  },
  {
    name: "rejects --remote with --persist-to",
    args: () => ["clients", "add", "acme", "--jwks", file("other.public.jwk"), "--remote"],
    status: 2,
    message: "--persist-to applies to local state only",
  },
  {
    name: "rejects --local with --remote",
    args: () => ["clients", "list", "--local", "--remote"],
    status: 2,
    message: "choose one of --local and --remote",
  },
  {
    name: "rejects retire-key without --kid",
    args: () => ["clients", "retire-key", "acme"],
    status: 2,
    message: "clients retire-key: --kid is required",
  },
  {
    name: "rejects an unknown subcommand",
    args: () => ["clients", "delete", "acme"],
    status: 2,
    message: 'clients: unknown subcommand "delete"',
  },
  {
    name: "rejects an unknown command",
    args: () => ["client", "add", "acme"],
    status: 2,
    message: 'unknown command "client"',
  },
];

describe("clients: refusals before any write", () => {
  it.each(beforeAnyWrite)("$name", async ({ args, status, message }) => {
    const before = await folderFingerprint(state);
    const result = await runCli([...args(), "--persist-to", state]);
    expectRefusal(result, status, message);
    expect(await folderFingerprint(state)).toBe(before);
  });
});

// Refusals that need the stored record first; the registry is compared as a whole at the end.
const afterReading: Array<{ name: string; args: () => string[]; message: string | RegExp }> = [
  {
    name: "rejects retiring a client's last key",
    args: () => ["clients", "retire-key", "acme", "--kid", registered.kid],
    message: 'client "acme": refusing to retire the last key: add its replacement first',
  },
  {
    name: "rejects retiring a kid the client does not have",
    args: () => ["clients", "retire-key", "acme", "--kid", "no-such-kid"],
    message: 'client "acme": no key with kid "no-such-kid"',
  },
  {
    name: "rejects adding a key that is already registered",
    args: () => ["clients", "add-key", "acme", "--jwks", file("registered.public.jwk")],
    message: 'client "acme": key 1 is already registered (kid',
  },
  {
    name: "rejects adding a key whose kid an EC key of the client has",
    args: () => ["clients", "add-key", "acme", "--jwks", file("same-kid-as-registered.jwk")],
    message: "two EC keys share the kid",
  },
  {
    name: "rejects add-key for an unknown client",
    args: () => ["clients", "add-key", "ghost", "--jwks", file("other.public.jwk")],
    message: 'no client "ghost"',
  },
  {
    name: "rejects remove of an unknown client",
    args: () => ["clients", "remove", "ghost"],
    message: 'no client "ghost"',
  },
  {
    name: "rejects disable of an unknown client",
    args: () => ["clients", "disable", "ghost"],
    message: 'no client "ghost"',
  },
  { name: "rejects show of an unknown client", args: () => ["clients", "show", "ghost"], message: 'no client "ghost"' },
];

describe("clients: refusals after reading the record", () => {
  it.each(afterReading)("$name", async ({ args, message }) => {
    expectRefusal(await runCli([...args(), "--persist-to", state]), 1, message);
  });

  it("leaves the registry exactly as it was after every refusal", async () => {
    const after = await runCli(["clients", "list", "--json", "--persist-to", state]);
    expect(after.status).toBe(0);
    expect(after.stdout).toBe(registrySnapshot);
  });
});

// --remote with no Cloudflare credentials (the state of a fresh clone, and of CI): wrangler refuses before any
// network call. The CLI must pass its reason on in one line, exit 1, and leave the local registry alone.
describe("clients --remote without Cloudflare credentials", () => {
  const localState = join(PROJECT_ROOT, ".wrangler", "state");
  const localFingerprint = async () =>
    access(localState).then(
      () => folderFingerprint(localState),
      () => "no local state",
    );
  // No token, and a home without a `wrangler login`, so the refusal does not depend on who runs the suite.
  const noCredentials = () => ({
    CLOUDFLARE_API_TOKEN: undefined,
    CLOUDFLARE_API_KEY: undefined,
    CLOUDFLARE_ACCOUNT_ID: undefined,
    HOME: folder.path,
    XDG_CONFIG_HOME: join(folder.path, ".config"),
  });

  it.each([
    {
      name: "clients add",
      args: () => ["clients", "add", "remote-acme", "--jwks", file("other.public.jwk"), "--remote"],
    },
    { name: "clients list", args: () => ["clients", "list", "--remote"] },
    { name: "clients disable", args: () => ["clients", "disable", "remote-acme", "--remote"] },
  ])("$name refuses with wrangler's reason and writes nothing locally", async ({ args }) => {
    const before = await localFingerprint();
    const result = await runCli(args(), { env: noCredentials() });
    expect(result.status, result.stderr).toBe(1);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: wrangler kv [a-z ]+ failed: .*CLOUDFLARE_API_TOKEN/);
    expect(result.stdout).toBe("");
    expect(await localFingerprint()).toBe(before);
  });
});
