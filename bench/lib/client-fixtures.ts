// Bench clients: key pairs (jose WebCrypto only), registry records in the docs/registry.md shape, and pools of
// unique signed assertions built before any timed run. Signs nothing while a load run is under way.
import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export type ClientAlgorithm = "ES256" | "PS256" | "RS256";

export interface ClientKeyPair {
  alg: ClientAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  /** Public JWK with `kid` (RFC 7638 thumbprint) and `alg`. */
  publicJwk: JWK;
}

export async function newClientKeyPair(alg: ClientAlgorithm): Promise<ClientKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, kid, privateKey: privateKey as CryptoKey, publicJwk: { ...jwk, kid, alg } };
}

/** An active client record holding `keys` (docs/registry.md). */
export function clientRecord(clientId: string, keys: readonly JWK[]): Record<string, unknown> {
  return {
    client_id: clientId,
    status: "active",
    jwks: { keys },
    scopes: ["reports:read", "reports:write"],
    default_scopes: ["reports:read"],
    audiences: ["https://api.bench.test"],
    name: `bench client ${clientId}`,
  };
}

export interface AssertionSpec {
  clientId: string;
  key: ClientKeyPair;
  issuer: string;
  /** Seconds from now to `exp`; must not exceed the server's ASSERTION_MAX_LIFETIME. */
  lifetime: number;
  /** Put the key's `kid` in the header (default true). */
  withKid?: boolean;
}

/** The form body of one token request carrying a fresh, unique client assertion. */
export async function tokenRequestBody(spec: AssertionSpec): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header =
    spec.withKid === false ? { alg: spec.key.alg, typ: "JWT" } : { alg: spec.key.alg, kid: spec.key.kid, typ: "JWT" };
  const assertion = await new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(spec.clientId)
    .setSubject(spec.clientId)
    .setAudience(spec.issuer)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + spec.lifetime)
    .sign(spec.key.privateKey);
  return new URLSearchParams({
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
  }).toString();
}

/** A queue of pre-built request bodies; each is handed out once. */
export class RequestBodyPool {
  private next = 0;
  constructor(private readonly bodies: readonly string[]) {}

  static async build(count: number, specFor: (index: number) => AssertionSpec): Promise<RequestBodyPool> {
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) bodies.push(await tokenRequestBody(specFor(i)));
    return new RequestBodyPool(bodies);
  }

  take(): string | undefined {
    return this.bodies[this.next++];
  }

  get remaining(): number {
    return Math.max(0, this.bodies.length - this.next);
  }
}
