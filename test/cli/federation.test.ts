// The --federated-* flags of `clients add` and `clients update` against throwaway local state: a GitHub Actions trust
// and a Kubernetes one written exactly as given (no key needed), a trust with every flag next to a client key, the
// trust replaced and removed by update, and every refusal: one line on stderr, a non-zero exit, nothing written.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  folderFingerprint,
  runCli,
  stderrLines,
  type TestKeyPair,
  temporaryFolder,
  testKeyPair,
  writeJson,
} from "./support";

let folder: { path: string; remove(): Promise<void> };
let state: string;
let clientKey: TestKeyPair;
let issuerKey: TestKeyPair;
const file = (name: string) => join(folder.path, name);
const cli = (...args: string[]) => runCli([...args, "--persist-to", state]);

const GITHUB = "https://token.actions.githubusercontent.com";
const GITHUB_SUBJECT = "repo:octo-org/app:ref:refs/heads/main";
const EKS = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const PRIVATE_CLUSTER = "https://kubernetes.default.svc";

async function showRecord(clientId: string): Promise<Record<string, unknown>> {
  const result = await cli("clients", "show", clientId);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function expectRefusal(result: CliResult, status: number, message: string): void {
  expect(result.status, `exit status (stderr: ${result.stderr})`).toBe(status);
  const lines = stderrLines(result);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toBe(`error: ${message}`);
  expect(result.stdout).toBe("");
}

beforeAll(async () => {
  folder = await temporaryFolder("federation");
  state = file("state");
  await mkdir(state, { recursive: true });
  clientKey = await testKeyPair("ES256");
  issuerKey = await testKeyPair("RS256");
  await writeJson(file("client.public.jwk"), clientKey.publicJwk);
  // As `kubectl get --raw /openid/v1/jwks` prints it: the cluster's own kid, which its tokens name.
  await writeJson(file("cluster-jwks.json"), { keys: [{ ...issuerKey.publicJwk, kid: "cluster-2026", use: "sig" }] });
  await writeFile(file("cluster.pem"), issuerKey.publicPem);
}, 120_000);

afterAll(async () => {
  await folder?.remove();
});

describe("clients add with a federated trust", () => {
  it("writes a GitHub Actions trust pinned to its owner, and no key", async () => {
    const result = await cli(
      "clients",
      "add",
      "deployer",
      "--federated-issuer",
      GITHUB,
      "--federated-subject",
      GITHUB_SUBJECT,
      "--federated-claim",
      "repository_owner_id=65432",
      "--scope",
      "deploy",
      "--audience",
      "https://api.example",
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `Added client "deployer" in the local registry at ${state}: active, no key, trusts ${GITHUB} for "${GITHUB_SUBJECT}", scopes deploy.\n`,
    );
    expect(await showRecord("deployer")).toEqual({
      client_id: "deployer",
      status: "active",
      federation: [{ issuer: GITHUB, subject: GITHUB_SUBJECT, claims: { repository_owner_id: "65432" } }],
      scopes: ["deploy"],
      audiences: ["https://api.example"],
    });
  });

  it("writes a Kubernetes trust with a dotted claim path, reuse and a max age", async () => {
    const subject = "system:serviceaccount:payments:ledger";
    const result = await cli(
      "clients",
      "add",
      "ledger",
      "--federated-issuer",
      EKS,
      "--federated-subject",
      subject,
      "--federated-claim",
      "kubernetes.io.namespace=payments",
      "--federated-allow-reuse",
      "--federated-max-age",
      "600",
      "--scope",
      "payments.write",
    );
    expect(result.status, result.stderr).toBe(0);
    const record = await showRecord("ledger");
    expect(record.federation).toEqual([
      {
        issuer: EKS,
        subject,
        claims: { "kubernetes.io.namespace": "payments" },
        max_age: 600,
        allow_reuse: true,
      },
    ]);
    expect(record).not.toHaveProperty("jwks");
    expect(record).not.toHaveProperty("jwks_uri");
  });

  it("writes a trust with every flag and the issuer's static JWK Set (kids as given) next to a client key", async () => {
    const result = await cli(
      "clients",
      "add",
      "batch",
      "--jwks",
      file("client.public.jwk"),
      "--federated-issuer",
      PRIVATE_CLUSTER,
      "--federated-subject",
      "system:serviceaccount:batch:default",
      "--federated-audience",
      "https://auth.example.com",
      "--federated-claim",
      "kubernetes.io.namespace=batch",
      "--federated-claim",
      "kubernetes.io.pod.name=a=b",
      "--federated-require-dpop",
      "--federated-allow-default-service-account",
      "--federated-jwks",
      file("cluster-jwks.json"),
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`: active, 1 key \\[${clientKey.kid} \\(EC P-256\\)\\], trusts ${PRIVATE_CLUSTER} for "system:`),
    );
    const record = await showRecord("batch");
    expect(record.jwks).toEqual({ keys: [{ ...clientKey.publicJwk, kid: clientKey.kid }] });
    expect(record.federation).toEqual([
      {
        issuer: PRIVATE_CLUSTER,
        subject: "system:serviceaccount:batch:default",
        audience: "https://auth.example.com",
        claims: { "kubernetes.io.namespace": "batch", "kubernetes.io.pod.name": "a=b" },
        require_dpop: true,
        allow_default_service_account: true,
        jwks: { keys: [{ ...issuerKey.publicJwk, kid: "cluster-2026", use: "sig" }] },
      },
    ]);
  });

  it("lists a client with no key as federated", async () => {
    const result = await cli("clients", "list");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^deployer +active +- +federated +deploy$/m);
    expect(result.stdout).toMatch(/^batch +active +- +1 /m);
  });
});

describe("clients update with a federated trust", () => {
  it("replaces the client's trusts with the one given, then removes them with --no-federation", async () => {
    const replaced = await cli(
      "clients",
      "update",
      "batch",
      "--federated-issuer",
      EKS,
      "--federated-subject",
      "system:serviceaccount:batch:runner",
    );
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(replaced.stdout).toBe(`Updated federation of client "batch" in the local registry at ${state}.\n`);
    expect((await showRecord("batch")).federation).toEqual([
      { issuer: EKS, subject: "system:serviceaccount:batch:runner" },
    ]);

    const removed = await cli("clients", "update", "batch", "--no-federation");
    expect(removed.status, removed.stderr).toBe(0);
    const record = await showRecord("batch");
    expect(record).not.toHaveProperty("federation");
    expect(record.jwks).toEqual({ keys: [{ ...clientKey.publicJwk, kid: clientKey.kid }] });
  });

  it("refuses to remove the trust of a client with no key, and changes nothing", async () => {
    const before = await showRecord("deployer");
    expectRefusal(
      await cli("clients", "update", "deployer", "--no-federation"),
      1,
      'client "deployer": a client record needs exactly one of jwks (inline keys) and jwks_uri, or a federation',
    );
    expect(await showRecord("deployer")).toEqual(before);
  });
});

const add = (...flags: string[]) => ["clients", "add", "refused", ...flags, "--scope", "deploy"];
const PIN_MESSAGE = (name: string, claims: string) =>
  `clients add: federation[0]: ${name} signs tokens for everyone on it, and its subjects can be claimed by whoever registers the name: pin the owner with a claim condition on one of ${claims}`;
const GITHUB_PINS = "repository_owner_id, repository_owner, repository_id, repository";

// Every one is decided before the registry is read: not one file of the local state may change.
const refusals: Array<{ name: string; args: () => string[]; status: number; message: string | (() => string) }> = [
  {
    name: "a GitHub Actions trust without an owner pin",
    args: () => add("--federated-issuer", GITHUB, "--federated-subject", GITHUB_SUBJECT),
    status: 1,
    message: PIN_MESSAGE("GitHub Actions", GITHUB_PINS),
  },
  {
    name: "a GitHub Enterprise trust pinned by a claim that is not an owner's",
    args: () =>
      add(
        "--federated-issuer",
        `${GITHUB}/octo-enterprise`,
        "--federated-subject",
        GITHUB_SUBJECT,
        "--federated-claim",
        "ref=refs/heads/main",
      ),
    status: 1,
    message: PIN_MESSAGE("GitHub Actions", GITHUB_PINS),
  },
  {
    name: "a GitLab.com trust without an owner pin",
    args: () =>
      add(
        "--federated-issuer",
        "https://gitlab.com",
        "--federated-subject",
        "project_path:group/app:ref_type:branch:ref:main",
      ),
    status: 1,
    message: PIN_MESSAGE("GitLab.com", "namespace_id, namespace_path, project_id, project_path"),
  },
  {
    name: "a Kubernetes default service account subject",
    args: () => add("--federated-issuer", EKS, "--federated-subject", "system:serviceaccount:payments:default"),
    status: 1,
    message:
      "clients add: federation[0].subject names a namespace's default service account, which every pod without its own runs as: use a dedicated service account, or set allow_default_service_account",
  },
  {
    name: "an http issuer that is not loopback",
    args: () => add("--federated-issuer", "http://issuer.example.com", "--federated-subject", "svc"),
    status: 1,
    message: "clients add: federation[0].issuer must be an https URL (http only for localhost)",
  },
  {
    name: "an issuer on a private host without a static JWK Set (its keys would be fetched there)",
    args: () =>
      add(
        "--federated-issuer",
        "https://kubernetes.default.svc.cluster.local",
        "--federated-subject",
        "system:serviceaccount:batch:runner",
      ),
    status: 1,
    message:
      "clients add: federation[0].issuer must name a public host (not a single-label, .local, .internal or other private name)",
  },
  {
    name: "--federated-subject without --federated-issuer",
    args: () => add("--federated-subject", GITHUB_SUBJECT),
    status: 2,
    message: "clients add: --federated-subject needs --federated-issuer <url>",
  },
  {
    name: "--federated-allow-reuse without --federated-issuer",
    args: () => add("--jwks", file("client.public.jwk"), "--federated-allow-reuse"),
    status: 2,
    message: "clients add: --federated-allow-reuse needs --federated-issuer <url>",
  },
  {
    name: "--federated-issuer without --federated-subject",
    args: () => add("--federated-issuer", EKS),
    status: 2,
    message: "clients add: --federated-subject <sub> is required with --federated-issuer",
  },
  {
    name: "a --federated-claim without =",
    args: () =>
      add("--federated-issuer", EKS, "--federated-subject", "svc", "--federated-claim", "repository_owner_id"),
    status: 2,
    message:
      'clients add: --federated-claim must be <name>=<value>, e.g. repository_owner_id=65432 (got "repository_owner_id")',
  },
  {
    name: "a --federated-claim with an empty name",
    args: () => add("--federated-issuer", EKS, "--federated-subject", "svc", "--federated-claim", "=65432"),
    status: 2,
    message: 'clients add: --federated-claim must be <name>=<value>, e.g. repository_owner_id=65432 (got "=65432")',
  },
  {
    name: "the same --federated-claim name twice",
    args: () =>
      add(
        "--federated-issuer",
        EKS,
        "--federated-subject",
        "svc",
        "--federated-claim",
        "team=a",
        "--federated-claim",
        "team=b",
      ),
    status: 2,
    message: 'clients add: --federated-claim names "team" twice',
  },
  ...["10m", "0", "-5", "86401", "1.5"].map((maxAge) => ({
    name: `--federated-max-age ${maxAge}`,
    args: () => add("--federated-issuer", EKS, "--federated-subject", "svc", "--federated-max-age", maxAge),
    status: 2,
    message: "clients add: --federated-max-age must be a whole number of seconds from 1 to 86400",
  })),
  {
    name: "a value given to --federated-allow-reuse",
    args: () => add("--federated-issuer", EKS, "--federated-subject", "svc", "--federated-allow-reuse=yes"),
    status: 2,
    message: "clients add: --federated-allow-reuse takes no value",
  },
  {
    name: "a PEM --federated-jwks, which carries no kid for the issuer's tokens",
    args: () =>
      add("--federated-issuer", PRIVATE_CLUSTER, "--federated-subject", "svc", "--federated-jwks", file("cluster.pem")),
    status: 1,
    message: () =>
      `${file("cluster.pem")}: expected the issuer's JWK Set (JSON, as its jwks_uri serves it), not PEM: a PEM key has no kid to match its tokens`,
  },
  {
    name: "a --federated-jwks holding a private key",
    args: () =>
      add(
        "--federated-issuer",
        PRIVATE_CLUSTER,
        "--federated-subject",
        "svc",
        "--federated-jwks",
        file("client.private.jwk"),
      ),
    status: 1,
    message: () => `${file("client.private.jwk")}: the key contains private key material: register the public key only`,
  },
  {
    name: "update with both a trust and --no-federation",
    args: () => [
      "clients",
      "update",
      "deployer",
      "--federated-issuer",
      EKS,
      "--federated-subject",
      "svc",
      "--no-federation",
    ],
    status: 2,
    message: "clients update: choose one of --federated-* and --no-federation",
  },
  {
    name: "update with --federated-max-age alone",
    args: () => ["clients", "update", "deployer", "--federated-max-age", "60"],
    status: 2,
    message: "clients update: --federated-max-age needs --federated-issuer <url>",
  },
  {
    name: "update to a GitHub Actions trust without an owner pin",
    args: () => ["clients", "update", "deployer", "--federated-issuer", GITHUB, "--federated-subject", GITHUB_SUBJECT],
    status: 1,
    message: PIN_MESSAGE("GitHub Actions", GITHUB_PINS).replace("clients add:", "clients update:"),
  },
];

describe("federated trust refusals", () => {
  let registry: string;

  beforeAll(async () => {
    await writeJson(file("client.private.jwk"), clientKey.privateJwk);
    registry = (await cli("clients", "list", "--json")).stdout;
  }, 120_000);

  it.each(refusals)("refuses $name", async ({ args, status, message }) => {
    const before = await folderFingerprint(state);
    expectRefusal(await cli(...args()), status, typeof message === "string" ? message : message());
    expect(await folderFingerprint(state)).toBe(before);
  });

  it("leaves the registry exactly as it was", async () => {
    const after = await cli("clients", "list", "--json");
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toBe(registry);
  });
});

describe("clients add --help", () => {
  it("names every --federated-* flag on one line of its own", async () => {
    const help = (await runCli(["clients", "add", "--help"])).stdout;
    for (const flag of [
      "--federated-issuer <url>",
      "--federated-subject <sub>",
      "--federated-audience <aud>",
      "--federated-claim <name>=<value>",
      "--federated-allow-reuse",
      "--federated-max-age <seconds>",
      "--federated-require-dpop",
      "--federated-allow-default-service-account",
      "--federated-jwks <file>",
    ]) {
      expect(help).toMatch(new RegExp(`^ {2}${flag} +\\S.*$`, "m"));
    }
    const update = (await runCli(["clients", "update", "--help"])).stdout;
    expect(update).toMatch(/^ {2}--federated-issuer <url> +\S/m);
    expect(update).toMatch(/^ {2}--no-federation +remove every trust/m);
  });
});
