// The Hono environment shared by the app and its middleware: bindings plus per-request variables.
// Types only.
import type { AssertionHeader } from "./assertion/decode";
import type { Config } from "./config";
import type { VerifiedProof } from "./dpop/proof";
import type { Env } from "./env";
import type { OwnTokenClaims } from "./issued-tokens/own-token";
import type { TokenStatusRequest } from "./issued-tokens/parse-request";
import type { SigningKeySet } from "./issuer/signing-keys";
import type { ClientJwk } from "./protocol/jwk";
import type { FederatedTrust } from "./registry/federated-trust";
import type { ClientRecord } from "./registry/record";
import type { GrantDecision } from "./token/authorize-grant";
import type { ClientCredentials, TokenRequest } from "./token/parse-request";

/** A client whose assertion passed every check except replay; its `jti` is not spent yet. */
export interface AuthenticatedClient {
  record: ClientRecord;
  key: ClientJwk;
  /** The key's id: its kid, or its RFC 7638 thumbprint (access tokens carry it as `client_key`). */
  keyId: string;
  jti: string;
  /** Assertion expiry, seconds since the epoch. */
  exp: number;
  /** The accepted `aud` value the assertion carried. */
  aud: string;
  header: AssertionHeader;
  /**
   * For an external token: the trust that accepted it, its claims (to check again against a newer record), its exp
   * (the access token never outlives it) and whether the trust allows reuse (its jti is then not spent).
   */
  federated?: { trust: FederatedTrust; claims: Record<string, unknown>; exp: number; reusable: boolean };
}

/**
 * What the audit line of a token request says beyond outcome and reason. Never keys, tokens or assertions; a jti only
 * as a hash. Fields taken from the request before the client is authenticated say so (`claimed_`).
 */
export interface AuditFields {
  claimed_client_id?: string;
  claimed_kid?: string;
  /** Set only once the assertion's signature verified. */
  client_id?: string;
  kid?: string;
  jti?: string;
  /**
   * An external token's issuer and subject as it claims them, the trust they selected (its key id), and its jti
   * once the trust accepted it (logged only as a hash).
   */
  federation?: { issuer: string; subject: string; trust?: string; jti?: string };
  /** The thumbprint of a verified DPoP proof's key: what the token is bound to (public, not a secret). */
  dpop_jkt?: string;
  /** The issued access token. */
  token?: { jti: string; aud: string | string[]; scope: string; exp: number; type: "Bearer" | "DPoP" };
  /**
   * The token a revocation or introspection request is about: its client and jti once its signature verified, and
   * what was found (`active`, `revoked`, or why it is not active), and the hint the request gave.
   */
  target?: { client_id?: string; jti?: string; state: string; hint?: string };
}

/** The operator an admin request was authenticated as. */
export interface Operator {
  clientId: string;
  /** The id of the operator key that obtained the admin token. */
  keyId: string;
  /** The admin token's jti (logged only as a hash). */
  tokenJti: string;
}

/** What the audit line of an admin request says beyond method, path and outcome. */
export interface AdminAuditFields {
  /** The client the request is about. */
  client_id?: string;
  kid?: string;
  version_before?: number;
  version_after?: number;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    signingKeys: SigningKeySet;
    /** Request time, whole seconds since the epoch, read once. */
    now: number;
    tokenRequest: TokenRequest;
    /** The token request presents its JWT as the grant (RFC 7523 section 2.1): refusals are invalid_grant. */
    assertionGrant?: boolean;
    /** The client authentication of a token, revocation or introspection request. */
    credentials: ClientCredentials;
    /** A revocation or introspection request. */
    statusRequest: TokenStatusRequest;
    /** The token it is about, when it is an unexpired access token this server signed. */
    presented?: OwnTokenClaims;
    client: AuthenticatedClient;
    grant: GrantDecision;
    /** The request's verified DPoP proof; absent for a Bearer token request. */
    dpop?: VerifiedProof;
    audit: AuditFields;
    operator: Operator;
    adminAudit: AdminAuditFields;
  };
}
