// `token` against a real local server (`npm run dev` on free ports, throwaway state, DPoP nonces required): keys from
// `keys generate` and from plain openssl, registered with `clients add`; the token verified against the served JWKS;
// DPoP-bound tokens with --dpop and --dpop-key; error responses and client-side mistakes exit non-zero with one line.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalServer, startLocalServer } from "../../scripts/lib/local-server";
import { type CliResult, runCli, stderrLines, temporaryFolder } from "./support";

let folder: { path: string; remove(): Promise<void> };
let server: LocalServer | undefined;
let issuer: string;
const file = (name: string) => join(folder.path, name);

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function ok(result: Promise<CliResult>): Promise<CliResult> {
  const done = await result;
  expect(done.status, done.stderr).toBe(0);
  return done;
}

beforeAll(async () => {
  folder = await temporaryFolder("token");
  const state = file("state");
  // Nonces on: --dpop must cope with use_dpop_nonce; requests without a proof are untouched by it.
  server = await startLocalServer({ persistTo: state, vars: { DPOP_NONCE: "required" } });
  issuer = server.issuer;
  await ok(runCli(["keys", "generate", "--out", file("es")]));
  await ok(runCli(["keys", "generate", "--alg", "PS256", "--format", "pem", "--out", file("rsa")]));
  await ok(
    runCli([
      "clients",
      "add",
      "jwk-client",
      "--jwks",
      file("es.public.jwk"),
      "--scope",
      "orders.read orders.write",
      "--audience",
      "https://api.example.com",
      "--audience",
      "https://reports.example.com",
      "--persist-to",
      state,
    ]),
  );
  await ok(runCli(["clients", "add", "pem-client", "--jwks", file("rsa.public.pem"), "--persist-to", state]));
  await ok(runCli(["keys", "generate", "--out", file("bound")]));
  await ok(runCli(["keys", "generate", "--out", file("proof")]));
  await ok(
    runCli([
      "clients",
      "add",
      "bound-client",
      "--jwks",
      file("bound.public.jwk"),
      "--dpop-bound",
      "--persist-to",
      state,
    ]),
  );
  if (hasOpenssl()) {
    execFileSync("openssl", [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      file("openssl.pem"),
    ]);
    execFileSync("openssl", ["pkey", "-in", file("openssl.pem"), "-pubout", "-out", file("openssl.pub.pem")]);
    await ok(
      runCli([
        "clients",
        "add",
        "openssl-client",
        "--jwks",
        file("openssl.pub.pem"),
        "--scope",
        "orders.read",
        "--disabled",
        "--persist-to",
        state,
      ]),
    );
  }
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await folder?.remove();
});

async function verifiedClaims(result: CliResult) {
  const body = JSON.parse(result.stdout) as {
    access_token: string;
    token_type: string;
    expires_in: number;
    scope?: string;
  };
  expect(body.token_type).toBe("Bearer");
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer, typ: "at+jwt" });
  return { body, payload, protectedHeader };
}

describe("token", () => {
  it("gets a token with a private JWK from keys generate; it verifies against the served JWKS", async () => {
    const result = await ok(
      runCli([
        "token",
        "--client-id",
        "jwk-client",
        "--key",
        file("es.private.jwk"),
        "--issuer",
        issuer,
        "--scope",
        "orders.read",
      ]),
    );
    const { body, payload } = await verifiedClaims(result);
    expect(body.scope).toBe("orders.read");
    expect(payload).toMatchObject({
      sub: "jwk-client",
      client_id: "jwk-client",
      aud: "https://api.example.com",
      scope: "orders.read",
    });
  });

  it("asks for a resource with --resource", async () => {
    const result = await ok(
      runCli([
        "token",
        "--client-id",
        "jwk-client",
        "--key",
        file("es.private.jwk"),
        "--issuer",
        `${issuer}/`,
        "--resource",
        "https://reports.example.com",
      ]),
    );
    const { payload } = await verifiedClaims(result);
    expect(payload.aud).toBe("https://reports.example.com");
  });

  it.each(["RS256", "PS256"])("signs with a PKCS#8 RSA PEM as %s; the kid is the key's thumbprint", async (alg) => {
    const args = ["token", "--client-id", "pem-client", "--key", file("rsa.private.pem"), "--issuer", issuer];
    const result = await ok(runCli(alg === "RS256" ? args : [...args, "--alg", alg]));
    const { payload } = await verifiedClaims(result);
    expect(payload.sub).toBe("pem-client");
  });

  it.skipIf(!hasOpenssl())("works with keys made by plain openssl (genpkey, pkey -pubout)", async () => {
    // Registered disabled: first the error path, then enabled, the success path.
    const refused = await runCli([
      "token",
      "--client-id",
      "openssl-client",
      "--key",
      file("openssl.pem"),
      "--issuer",
      issuer,
    ]);
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({
      error: "invalid_client",
      error_description: "Client authentication failed",
    });
    expect(stderrLines(refused)).toEqual([
      "error: the token endpoint answered HTTP 401 invalid_client: Client authentication failed",
    ]);

    await ok(runCli(["clients", "enable", "openssl-client", "--persist-to", file("state")]));
    const result = await ok(
      runCli(["token", "--client-id", "openssl-client", "--key", file("openssl.pem"), "--issuer", issuer]),
    );
    const { payload } = await verifiedClaims(result);
    expect(payload).toMatchObject({ sub: "openssl-client", scope: "orders.read" });
  });

  it("gets a DPoP-bound token for a --dpop-bound client with --dpop, after the server's nonce", async () => {
    const args = ["token", "--client-id", "bound-client", "--key", file("bound.private.jwk"), "--issuer", issuer];
    const refused = await runCli(args);
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: "invalid_dpop_proof" });
    const result = await ok(runCli([...args, "--dpop"]));
    const body = JSON.parse(result.stdout) as { access_token: string; token_type: string };
    expect(body.token_type).toBe("DPoP");
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer, typ: "at+jwt" });
    expect(payload.cnf).toEqual({ jkt: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });

  it("binds the token to the key given with --dpop-key", async () => {
    const result = await ok(
      runCli([
        "token",
        ...["--client-id", "bound-client", "--key", file("bound.private.jwk"), "--issuer", issuer],
        ...["--dpop-key", file("proof.private.jwk")],
      ]),
    );
    const body = JSON.parse(result.stdout) as { access_token: string };
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer, typ: "at+jwt" });
    const { d: _d, ...publicJwk } = JSON.parse(await readFile(file("proof.private.jwk"), "utf8")) as JWK;
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(publicJwk) });
  });

  it("exits 1 and prints the error response when the server refuses (invalid_scope)", async () => {
    const result = await runCli([
      "token",
      "--client-id",
      "jwk-client",
      "--key",
      file("es.private.jwk"),
      "--issuer",
      issuer,
      "--scope",
      "admin",
    ]);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: "invalid_scope" });
    expect(stderrLines(result)).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: the token endpoint answered HTTP 400 invalid_scope/);
  });

  it("exits 1 with invalid_client when the key does not belong to the client", async () => {
    const result = await runCli([
      "token",
      "--client-id",
      "pem-client",
      "--key",
      file("es.private.jwk"),
      "--issuer",
      issuer,
    ]);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: "invalid_client" });
  });

  it("refuses metadata whose issuer is not the one asked for (RFC 8414 section 3.3)", async () => {
    const other = issuer.replace("127.0.0.1", "localhost");
    const result = await runCli([
      "token",
      "--client-id",
      "jwk-client",
      "--key",
      file("es.private.jwk"),
      "--issuer",
      other,
    ]);
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([`error: the server's issuer "${issuer}" is not "${other}"`]);
  });

  it.each([
    {
      name: "rejects a missing --client-id",
      args: () => ["--key", file("es.private.jwk")],
      status: 2,
      message: "error: token: --client-id is required",
    },
    {
      name: "rejects a missing --key",
      args: () => ["--client-id", "x"],
      status: 2,
      message: "error: token: --key is required",
    },
    {
      name: "rejects a public key as --key",
      args: () => ["--client-id", "x", "--key", file("rsa.public.pem")],
      status: 1,
      message: "no private key found",
    },
    {
      name: "rejects a public JWK as --key",
      args: () => ["--client-id", "x", "--key", file("es.public.jwk")],
      status: 1,
      message: 'the JWK holds no private key ("d" is missing)',
    },
    {
      name: "rejects an --alg that does not fit the key",
      args: () => ["--client-id", "x", "--key", file("es.private.jwk"), "--alg", "RS256"],
      status: 2,
      message: "--alg RS256 does not fit this EC P-256 key",
    },
    {
      name: "rejects an unknown --alg",
      args: () => ["--client-id", "x", "--key", file("es.private.jwk"), "--alg", "HS256"],
      status: 2,
      message: "--alg HS256 is not a supported signature algorithm",
    },
    {
      name: "rejects --dpop with --dpop-key",
      args: () => [
        "--client-id",
        "x",
        "--key",
        file("es.private.jwk"),
        "--dpop",
        "--dpop-key",
        file("proof.private.jwk"),
      ],
      status: 2,
      message: "error: token: choose one of --dpop and --dpop-key",
    },
    {
      name: "rejects a public key as --dpop-key",
      args: () => ["--client-id", "x", "--key", file("es.private.jwk"), "--dpop-key", file("proof.public.jwk")],
      status: 1,
      message: 'the JWK holds no private key ("d" is missing)',
    },
    {
      name: "rejects an --issuer that is not a URL",
      args: () => ["--client-id", "x", "--key", file("es.private.jwk"), "--issuer", "not a url"],
      status: 2,
      message: 'error: --issuer "not a url" is not a URL',
    },
    {
      name: "rejects an --issuer that is not http(s)",
      args: () => ["--client-id", "x", "--key", file("es.private.jwk"), "--issuer", "localhost:8787"],
      status: 2,
      message: "error: --issuer must be an http(s) URL",
    },
  ])("$name", async ({ args, status, message }) => {
    const result = await runCli(["token", ...args(), ...(args().includes("--issuer") ? [] : ["--issuer", issuer])]);
    expect(result.status).toBe(status);
    expect(stderrLines(result)).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });

  it("says in one line that nothing answers at the issuer", async () => {
    const port = await freePort();
    const result = await runCli([
      "token",
      "--client-id",
      "x",
      "--key",
      file("es.private.jwk"),
      "--issuer",
      `http://127.0.0.1:${port}`,
    ]);
    expect(result.status).toBe(1);
    expect(stderrLines(result)).toEqual([
      `error: cannot reach http://127.0.0.1:${port}/.well-known/oauth-authorization-server: ECONNREFUSED`,
    ]);
  });

  it("prints the token response as JSON, with exactly the members the server sent", async () => {
    const result = await ok(
      runCli(["token", "--client-id", "jwk-client", "--key", file("es.private.jwk"), "--issuer", issuer]),
    );
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "scope", "token_type"]);
    expect(decodeProtectedHeader(body.access_token as string).typ).toBe("at+jwt");
  });
});
