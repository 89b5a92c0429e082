// Fake external issuers shaped like the real ones, for the federation tests in workerd and end to end: each has its
// own key pair, a discovery document and a JWK Set, and mints tokens with the header (alg, kid, typ, x5t) and the
// claims, nesting and lifetime its real counterpart uses:
// - GitHub Actions (docs.github.com, "About security hardening with OpenID Connect"): RS256, typ JWT, x5t; 5 minutes;
// - GitLab CI `id_tokens` (docs.gitlab.com, "OpenID Connect (OIDC) authentication using ID tokens"): RS256; 5 minutes;
// - Kubernetes projected service-account tokens (kubernetes.io, "Service account token volume projection"): RS256, no
//   typ, `aud` an array, the `kubernetes.io` claim; 10 minutes (expirationSeconds 600); jti only from 1.30 on;
// - SPIFFE JWT-SVIDs from SPIRE (spiffe.io, "JWT-SVID"): ES256, typ JWT, `aud` an array, a spiffe:// subject, no jti,
//   `iss` as SPIRE's jwt_issuer sets it.
// Uses jose only, so it runs in workerd and in Node. Never a real key or a real token.
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export type Profile = "github" | "gitlab" | "kubernetes" | "spiffe";

export interface FakeIssuer {
  profile: Profile;
  issuer: string;
  kid: string;
  /** The public JWK Set the issuer publishes. */
  jwks: { keys: JWK[] };
  /** Its OIDC discovery document. */
  discovery: { issuer: string; jwks_uri: string; [member: string]: unknown };
  /** A token as the real issuer mints it, for `audience`; `claims` override (undefined removes), `header` adds. */
  token(
    audience: string,
    options?: { claims?: Record<string, unknown>; header?: Record<string, unknown>; now?: number },
  ): Promise<string>;
  /** The subject and claim conditions a trust pins for this profile's default token. */
  subject: string;
  pins: Record<string, string>;
}

const ALG: Record<Profile, "RS256" | "ES256"> = {
  github: "RS256",
  gitlab: "RS256",
  kubernetes: "RS256",
  spiffe: "ES256",
};

/** The profile's claims for a token minted at `now` (seconds), without iss and aud. */
function profileClaims(profile: Profile, now: number): Record<string, unknown> {
  const jti = crypto.randomUUID();
  switch (profile) {
    case "github":
      return {
        jti,
        sub: "repo:octo-org/octo-repo:environment:prod",
        ref: "refs/heads/main",
        sha: "example-sha",
        repository: "octo-org/octo-repo",
        repository_owner: "octo-org",
        repository_owner_id: "65432",
        repository_id: "74",
        repository_visibility: "private",
        run_id: "123456789",
        run_number: "10",
        run_attempt: "1",
        actor: "octocat",
        actor_id: "12",
        workflow: "deploy",
        workflow_ref: "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        job_workflow_ref: "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        environment: "prod",
        event_name: "push",
        ref_type: "branch",
        runner_environment: "github-hosted",
        nbf: now - 5,
        iat: now,
        exp: now + 300,
      };
    case "gitlab":
      return {
        jti,
        sub: "project_path:my-group/my-project:ref_type:branch:ref:main",
        namespace_id: "72",
        namespace_path: "my-group",
        project_id: "20",
        project_path: "my-group/my-project",
        user_id: "1",
        user_login: "sample-user",
        pipeline_id: "574",
        pipeline_source: "push",
        job_id: "302",
        ref: "main",
        ref_type: "branch",
        ref_path: "refs/heads/main",
        ref_protected: "true",
        runner_id: 1,
        runner_environment: "gitlab-hosted",
        sha: "714a629c0b401fdce83e847fc9589983fc6f46bc",
        project_visibility: "private",
        ci_config_ref_uri: "gitlab.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
        nbf: now - 5,
        iat: now,
        exp: now + 300,
      };
    case "kubernetes":
      return {
        jti,
        sub: "system:serviceaccount:payments:deployer",
        "kubernetes.io": {
          namespace: "payments",
          node: { name: "node-a", uid: "646e7c5e-32d6-4d42-9dbd-e504e6cbe6b1" },
          pod: { name: "deployer-7c9d8", uid: "5e0bd49b-f040-43b0-99b7-22765a53f7f3" },
          serviceaccount: { name: "deployer", uid: "14ee3fa4-a7e2-420f-9f9a-dbc4507c3798" },
        },
        nbf: now,
        iat: now,
        exp: now + 600,
      };
    case "spiffe":
      // SPIRE mints JWT-SVIDs without jti: a trust for them needs allow_reuse.
      return { sub: "spiffe://example.org/ns/payments/sa/billing", iat: now, exp: now + 300 };
  }
}

const PINS: Record<Profile, Record<string, string>> = {
  github: { repository_owner_id: "65432" },
  gitlab: { namespace_id: "72" },
  kubernetes: { "kubernetes.io.namespace": "payments" },
  spiffe: {},
};

/** A fake issuer of `profile` at `issuer` (its discovery document and keys are served under it by the caller). */
export async function fakeIssuer(profile: Profile, issuer: string): Promise<FakeIssuer> {
  const alg = ALG[profile];
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${profile}-${crypto.randomUUID().slice(0, 8)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const sample = profileClaims(profile, 0);
  return {
    profile,
    issuer,
    kid,
    jwks: { keys: [jwk] },
    discovery: {
      issuer,
      jwks_uri: `${issuer.replace(/\/$/, "")}/.well-known/jwks`,
      subject_types_supported: ["public"],
      response_types_supported: ["id_token"],
      id_token_signing_alg_values_supported: [alg],
    },
    subject: sample.sub as string,
    pins: PINS[profile],
    async token(audience, options = {}) {
      const now = options.now ?? Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        ...profileClaims(profile, now),
        iss: issuer,
        // Kubernetes and SPIRE always send an array; the CI issuers a string.
        aud: profile === "kubernetes" || profile === "spiffe" ? [audience] : audience,
      };
      for (const [name, value] of Object.entries(options.claims ?? {})) {
        if (value === undefined) delete claims[name];
        else claims[name] = value;
      }
      const header: Record<string, unknown> = { alg, kid };
      if (profile === "github") Object.assign(header, { typ: "JWT", x5t: "ZXhhbXBsZS14NXQ" });
      if (profile === "gitlab" || profile === "spiffe") header.typ = "JWT";
      return new SignJWT(claims)
        .setProtectedHeader({ ...header, ...options.header } as { alg: string })
        .sign(privateKey);
    },
  };
}

/** A fetch that serves the issuers' discovery documents and key sets, counting each request by URL. */
export function issuerServer(issuers: readonly FakeIssuer[]) {
  const calls: string[] = [];
  const fetcher = (async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    calls.push(url);
    for (const issuer of issuers) {
      if (url === `${issuer.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`)
        return Response.json(issuer.discovery);
      if (url === issuer.discovery.jwks_uri) return Response.json(issuer.jwks);
    }
    return new Response("not found", { status: 404 });
  }) as typeof fetch;
  return { fetcher, calls };
}
