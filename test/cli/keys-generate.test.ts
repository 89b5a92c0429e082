// `keys generate`: key files for every algorithm, kid = RFC 7638 thumbprint, private file 0600, no overwrite
// without --force, and its refusals (one line, non-zero exit, nothing written).
import { createPrivateKey, createPublicKey } from "node:crypto";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validatePublicJwk } from "../../src/protocol/jwk";
import { runCli, stderrLines, temporaryFolder } from "./support";

let folder: { path: string; remove(): Promise<void> };
const file = (name: string) => join(folder.path, name);
const mode = async (path: string) => (await stat(path)).mode & 0o777;
const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8")) as JWK;

beforeAll(async () => {
  folder = await temporaryFolder("keys");
});

afterAll(async () => {
  await folder?.remove();
});

describe("keys generate", () => {
  it("writes an ES256 JWK pair by default, relative to the working folder, private key 0600", async () => {
    const result = await runCli(["keys", "generate", "--out", "acme"], { cwd: folder.path });
    expect(result.status, result.stderr).toBe(0);
    const privateJwk = await readJson(file("acme.private.jwk"));
    const publicJwk = await readJson(file("acme.public.jwk"));
    expect(await mode(file("acme.private.jwk"))).toBe(0o600);
    expect(await mode(file("acme.public.jwk"))).toBe(0o644);
    expect(publicJwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(publicJwk.d).toBeUndefined();
    expect(privateJwk.d).toEqual(expect.any(String));
    expect(publicJwk.kid).toBe(await calculateJwkThumbprint(publicJwk));
    expect(privateJwk.kid).toBe(publicJwk.kid);
    expect(() => validatePublicJwk(publicJwk)).not.toThrow();
    expect(result.stdout).toContain(`kid ${publicJwk.kid}`);
  });

  it.each([
    ["ES384", "ec", "secp384r1"],
    ["ES512", "ec", "secp521r1"],
    ["PS256", "rsa", undefined],
    ["RS256", "rsa", undefined],
    ["EdDSA", "ed25519", undefined],
  ])("writes a %s pair as PEM (PKCS#8 and SPKI)", async (alg, type, curve) => {
    const prefix = file(`pem-${alg}`);
    const result = await runCli(["keys", "generate", "--alg", alg, "--format", "pem", "--out", prefix]);
    expect(result.status, result.stderr).toBe(0);
    const privatePem = await readFile(`${prefix}.private.pem`, "utf8");
    const publicPem = await readFile(`${prefix}.public.pem`, "utf8");
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    expect(await mode(`${prefix}.private.pem`)).toBe(0o600);
    const publicKey = createPublicKey(publicPem);
    expect(publicKey.asymmetricKeyType).toBe(type);
    if (curve) expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(curve);
    if (type === "rsa") expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    // The two files are halves of one pair.
    expect(createPublicKey(createPrivateKey(privatePem)).export({ format: "jwk" })).toEqual(
      publicKey.export({ format: "jwk" }),
    );
    const kid = await calculateJwkThumbprint(publicKey.export({ format: "jwk" }) as JWK);
    expect(result.stdout).toContain(`kid ${kid}`);
  });

  it("refuses to overwrite existing key files, and leaves them as they were", async () => {
    const before = await readFile(file("acme.private.jwk"), "utf8");
    const result = await runCli(["keys", "generate", "--out", file("acme")]);
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([
      `error: ${file("acme.private.jwk")} already exists (use --force to overwrite)`,
    ]);
    expect(await readFile(file("acme.private.jwk"), "utf8")).toBe(before);
  });

  it("refuses when only the public file exists, writing neither", async () => {
    await writeFile(file("half.public.jwk"), "{}");
    const result = await runCli(["keys", "generate", "--out", file("half")]);
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([
      `error: ${file("half.public.jwk")} already exists (use --force to overwrite)`,
    ]);
    expect((await readdir(folder.path)).filter((name) => name.startsWith("half") || name.startsWith(".half"))).toEqual([
      "half.public.jwk",
    ]);
  });

  it("overwrites with --force, and the private file is 0600 again", async () => {
    const before = await readJson(file("acme.private.jwk"));
    await chmod(file("acme.private.jwk"), 0o644);
    const result = await runCli(["keys", "generate", "--out", file("acme"), "--force"]);
    expect(result.status, result.stderr).toBe(0);
    const after = await readJson(file("acme.private.jwk"));
    expect(after.kid).not.toBe(before.kid);
    expect(await mode(file("acme.private.jwk"))).toBe(0o600);
  });

  it.each([
    {
      name: "rejects an unknown --alg",
      args: ["--alg", "HS256"],
      status: 2,
      message: "keys generate: --alg must be one of ES256, ES384, ES512, PS256, RS256, EdDSA",
    },
    {
      name: "rejects an unknown --format",
      args: ["--format", "der"],
      status: 2,
      message: "keys generate: --format must be jwk or pem",
    },
    {
      name: "rejects --out naming a folder",
      args: ["--out", "keys/"],
      status: 2,
      message: "keys generate: --out needs a file name prefix, not a folder",
    },
    {
      name: "rejects --out in a folder that does not exist",
      args: ["--out", "missing/acme"],
      status: 1,
      message: "missing does not exist",
    },
    {
      name: "rejects an unknown option",
      args: ["--bits", "4096"],
      status: 2,
      message: "keys generate: unknown option --bits",
    },
  ])("$name", async ({ args, status, message }) => {
    const before = (await readdir(folder.path)).sort();
    const result = await runCli(["keys", "generate", ...args], { cwd: folder.path });
    expect(result.status).toBe(status);
    expect(stderrLines(result)).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect((await readdir(folder.path)).sort()).toEqual(before);
  });
});
