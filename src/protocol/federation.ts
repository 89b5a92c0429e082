// The vocabulary and limits of workload identity federation (docs/federation.md): the request parameters that carry an
// external token, the bounds on a trust and on the token, and the shared issuers whose subjects alone say nothing
// about who owns the workload. Pure data: no I/O, no clock, no logic beyond lookups.

/** RFC 7523 section 2.1: an external JWT presented as the authorization grant itself (`assertion=`). */
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** draft-ietf-oauth-spiffe-client-auth: a SPIFFE JWT-SVID presented as the client assertion. */
export const JWT_SPIFFE_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

/** The prefix of the key id (`client_key`) a federated token carries: the trust, not a client key, obtained it. */
export const TRUST_KEY_PREFIX = "federation:";

export const FEDERATION = {
  /** Trusts per client: one per pipeline, branch or service account it serves; more is a registry, not a client. */
  maxTrustsPerClient: 20,
  /** Claim conditions per trust: owner, project, ref, environment, namespace... a handful in practice. */
  maxClaimConditions: 16,
  /** A claim name or dotted path (`kubernetes.io.namespace`). */
  maxClaimNameLength: 128,
  /** A subject or claim value: GitHub subjects with a long ref are the longest real ones, well under this. */
  maxValueLength: 512,
  /**
   * Default longest age of an external token (now minus its `iat`): CI tokens are used within seconds of being minted
   * and live 5 to 10 minutes; a Kubernetes token projected with expirationSeconds 600 is refreshed at 480 s.
   */
  defaultMaxAgeSeconds: 600,
  /** Longest age a trust may allow: a day, for a projected token whose refresh an operator cannot shorten. */
  maxMaxAgeSeconds: 86_400,
  /** Largest OIDC discovery document read: real ones are 1 to 5 KiB. */
  maxDiscoveryBytes: 32 * 1024,
  /** Claims a condition may never name: the ones the trust itself matches, or the times the service checks. */
  reservedClaims: ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"],
} as const;

/**
 * Issuers that sign tokens for every tenant of a public service: a subject there (a repository path, a project path)
 * can be claimed by whoever registers that name, or renamed away. A trust on one must also pin the owner by one of
 * these claims; the ids (`repository_owner_id`, `namespace_id`) survive renames and are the better pin.
 */
export const SHARED_ISSUERS: ReadonlyArray<{ name: string; issuer: string; pinClaims: readonly string[] }> = [
  {
    name: "GitHub Actions",
    issuer: "https://token.actions.githubusercontent.com",
    pinClaims: ["repository_owner_id", "repository_owner", "repository_id", "repository"],
  },
  {
    name: "GitLab.com",
    issuer: "https://gitlab.com",
    pinClaims: ["namespace_id", "namespace_path", "project_id", "project_path"],
  },
];

/** The shared issuer `issuer` is (a GitHub Enterprise issuer, `<github issuer>/<slug>`, counts as GitHub's). */
export function sharedIssuerOf(issuer: string) {
  return SHARED_ISSUERS.find((shared) => issuer === shared.issuer || issuer.startsWith(`${shared.issuer}/`));
}

/** A Kubernetes service account subject (`system:serviceaccount:<namespace>:<name>`) naming the `default` account. */
export function isDefaultServiceAccount(subject: string): boolean {
  return /^system:serviceaccount:[^:]+:default$/.test(subject);
}
