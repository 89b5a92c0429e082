// A record's federated trusts at registration (src/registry/federated-trust.ts through validateClientRecord): shared
// issuers need an owner pin, a default service account needs an explicit allowance, issuers pass the host policy
// unless their keys are static, and the bounds on claims, ages and duplicates. Also the claim paths and the token
// state a trust's removal leaves (a federated token dies with its trust).
import { describe, expect, it } from "vitest";
import { claimAt } from "../../../src/federation/external-token";
import { RecordError, validateClientRecord } from "../../../src/registry/record";
import { messageOf } from "../verdict";

const GITHUB = "https://token.actions.githubusercontent.com";

function recordWith(trust: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    client_id: "deploy-bot",
    status: "active",
    scopes: ["deploy"],
    audiences: ["https://api.example"],
    federation: [trust],
    ...extra,
  };
}

const verdict = (trust: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  messageOf(() => validateClientRecord(recordWith(trust, extra)), RecordError);

describe("a federated trust at registration", () => {
  it("accepts a GitHub trust that pins the owner, with no key of the client's own", () => {
    expect(
      verdict({ issuer: GITHUB, subject: "repo:o/r:ref:refs/heads/main", claims: { repository_owner_id: "1" } }),
    ).toBe("accepted");
  });

  it.each([
    ["GitHub Actions", GITHUB],
    ["GitHub Actions", `${GITHUB}/my-enterprise`],
    ["GitLab.com", "https://gitlab.com"],
  ])("refuses a %s trust (%s) without an owner pin, saying why", (name, issuer) => {
    const message = verdict({ issuer, subject: "repo:o/r:ref:refs/heads/main", claims: { ref: "refs/heads/main" } });
    expect(message).toContain(`${name} signs tokens for everyone on it`);
    expect(message).toContain("pin the owner");
  });

  it("refuses a Kubernetes default service account unless allowed", () => {
    const trust = { issuer: "https://oidc.cluster.example", subject: "system:serviceaccount:payments:default" };
    expect(verdict(trust)).toContain("default service account");
    expect(verdict({ ...trust, allow_default_service_account: true })).toBe("accepted");
    expect(verdict({ ...trust, subject: "system:serviceaccount:payments:deployer" })).toBe("accepted");
  });

  it.each([
    ["an IP literal", "https://10.0.0.5", "must name its host, not an IP address"],
    ["a private name", "https://oidc.cluster.local", "must name a public host"],
    ["a cluster-internal name", "https://kubernetes.default.svc", "must name a public host"],
    ["plain http", "http://oidc.example.com", "must be an https URL"],
    ["a query", "https://oidc.example.com/?tenant=1", "must have no query"],
    ["another port", "https://oidc.example.com:8443", "must use the default https port"],
  ])("refuses an issuer with %s, since its keys would be fetched", (_name, issuer, message) => {
    expect(verdict({ issuer, subject: "s" })).toContain(message);
  });

  it("accepts a private issuer name when the trust carries its keys (nothing is fetched)", () => {
    const jwks = {
      keys: [
        {
          kty: "EC",
          crv: "P-256",
          x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        },
      ],
    };
    expect(verdict({ issuer: "https://kubernetes.default.svc.cluster.local", subject: "s", jwks })).toBe("accepted");
  });

  it.each([
    ["a reserved claim", { claims: { aud: "x" } }, "may not name aud"],
    ["a non-string claim value", { claims: { run_attempt: 1 } }, "must be a string"],
    ["a max_age over a day", { max_age: 86_401 }, "max_age must be a whole number"],
    ["a max_age of zero", { max_age: 0 }, "max_age must be a whole number"],
    ["a flag that is not a boolean", { allow_reuse: "yes" }, "allow_reuse must be true or false"],
    ["a subject with a newline", { subject: "a\nb" }, "subject must be a string"],
    ["a misspelt member (its condition would be lost)", { claim: { ref: "main" } }, "has an unknown member claim"],
  ])("refuses %s", (_name, change, message) => {
    expect(verdict({ issuer: "https://oidc.example.com", subject: "s", ...change })).toContain(message);
  });

  it("refuses the same issuer and subject twice, and an empty federation", () => {
    const trust = { issuer: "https://oidc.example.com", subject: "s" };
    expect(
      messageOf(() => validateClientRecord({ ...recordWith(trust), federation: [trust, trust] }), RecordError),
    ).toBe("federation holds the same issuer and subject twice");
    expect(messageOf(() => validateClientRecord({ ...recordWith(trust), federation: [] }), RecordError)).toContain(
      "federation must be an array of 1 to 20 trusts",
    );
  });

  it("still needs a key or a federation", () => {
    const { federation: _none, ...bare } = recordWith({});
    expect(messageOf(() => validateClientRecord(bare), RecordError)).toContain("or a federation");
  });
});

describe("a claim path", () => {
  const claims = {
    "kubernetes.io": { namespace: "payments", serviceaccount: { name: "deployer" } },
    repository_owner: "octo-org",
  };

  it("reaches a member whose name holds dots, and nested members", () => {
    expect(claimAt(claims, "kubernetes.io.namespace")).toBe("payments");
    expect(claimAt(claims, "kubernetes.io.serviceaccount.name")).toBe("deployer");
    expect(claimAt(claims, "repository_owner")).toBe("octo-org");
  });

  it("finds nothing through the prototype or a missing member", () => {
    expect(claimAt(claims, "constructor")).toBeUndefined();
    expect(claimAt(claims, "repository_owner.length")).toBeUndefined();
    expect(claimAt(claims, "kubernetes.io.pod.name")).toBeUndefined();
  });
});
