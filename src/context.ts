// The Hono environment shared by the app and its middleware: bindings plus per-request variables.
// Types only.
import type { Config } from "./config";
import type { Env } from "./env";
import type { SigningKeySet } from "./issuer/signing-keys";
import type { ClientJwk } from "./protocol/jwk";
import type { ClientRecord } from "./registry/record";
import type { GrantDecision } from "./token/authorize-grant";
import type { TokenRequest } from "./token/parse-request";

/** A client whose assertion passed every check except replay; its `jti` is not spent yet. */
export interface AuthenticatedClient {
  record: ClientRecord;
  key: ClientJwk;
  jti: string;
  /** Assertion expiry, seconds since the epoch. */
  exp: number;
}

/** What the audit line of a token request says beyond outcome and reason. Never keys, tokens or assertions. */
export interface AuditFields {
  client_id?: string;
  kid?: string;
  jti?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    signingKeys: SigningKeySet;
    /** Request time, whole seconds since the epoch, read once. */
    now: number;
    tokenRequest: TokenRequest;
    client: AuthenticatedClient;
    grant: GrantDecision;
    audit: AuditFields;
  };
}
