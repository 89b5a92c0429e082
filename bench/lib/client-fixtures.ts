// Bench clients: key pairs (jose WebCrypto only), registry records in the docs/registry.md shape, and pools of
// unique signed assertions (with a DPoP proof when asked) built before any timed run. Signs nothing while a load run
// is under way.
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
  /** Send a DPoP proof (RFC 9449) signed with this key for this token endpoint URL. */
  dpop?: { key: DpopKeyPair; htu: string };
}

/** A DPoP proof key: ES256, the algorithm client libraries default to. */
export interface DpopKeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newDpopKeyPair(): Promise<DpopKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return { privateKey: privateKey as CryptoKey, publicJwk: { kty, crv, x, y } };
}

/** One pre-built token request: its form body, and its DPoP header when it carries a proof. */
export type PooledRequest = string | { body: string; headers: Record<string, string> };

async function dpopProof(dpop: NonNullable<AssertionSpec["dpop"]>): Promise<string> {
  return new SignJWT({ htm: "POST", htu: dpop.htu })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: dpop.key.publicJwk })
    .setJti(randomUUID())
    .setIssuedAt()
    .sign(dpop.key.privateKey);
}

/** The token request for `spec`: the body alone, or the body and a fresh DPoP proof. */
export async function tokenRequest(spec: AssertionSpec): Promise<PooledRequest> {
  const body = await tokenRequestBody(spec);
  return spec.dpop ? { body, headers: { DPoP: await dpopProof(spec.dpop) } } : body;
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

/**
 * An access token as the token service mints it (RFC 9068: typ at+jwt, the claims issue-token.ts sets), signed here
 * with the bench's own signing key, so revocation and introspection runs need no token requests of their own.
 */
export async function accessTokenFor(
  signingKey: { privateKey: CryptoKey; kid: string; alg: string },
  issuer: string,
  client: ClientKeyPair & { clientId: string },
  lifetimeSeconds: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: client.clientId, client_key: client.kid, scope: "reports:read" })
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: "at+jwt" })
    .setIssuer(issuer)
    .setSubject(client.clientId)
    .setAudience("https://api.bench.test")
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .setJti(randomUUID())
    .sign(signingKey.privateKey);
}

/** A revocation or introspection request: a fresh assertion of `spec`'s client, about `token`. */
export async function tokenStatusRequestBody(spec: AssertionSpec, token: string): Promise<string> {
  const form = new URLSearchParams(await tokenRequestBody(spec));
  form.delete("grant_type");
  form.set("token", token);
  return form.toString();
}

/** A queue of pre-built requests; each is handed out once. */
export class RequestBodyPool {
  private next = 0;
  constructor(private readonly bodies: readonly PooledRequest[]) {}

  /** A pool of `count` bodies made by `bodyFor`. */
  static async of(count: number, bodyFor: (index: number) => Promise<PooledRequest>): Promise<RequestBodyPool> {
    const bodies: PooledRequest[] = [];
    for (let i = 0; i < count; i++) bodies.push(await bodyFor(i));
    return new RequestBodyPool(bodies);
  }

  static async build(count: number, specFor: (index: number) => AssertionSpec): Promise<RequestBodyPool> {
    const bodies: PooledRequest[] = [];
    for (let i = 0; i < count; i++) bodies.push(await tokenRequest(specFor(i)));
    return new RequestBodyPool(bodies);
  }

  take(): PooledRequest | undefined {
    return this.bodies[this.next++];
  }

  get remaining(): number {
    return Math.max(0, this.bodies.length - this.next);
  }
}
