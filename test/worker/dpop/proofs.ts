// Test support: DPoP proofs (RFC 9449 section 4.2) built with jose for a key, with any claim or header member changed
// or left out, so each proof check can be tested by the one defect it refuses. No I/O.
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import type { TestAlg } from "../support";

export interface ProofKey {
  alg: TestAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the cnf.jkt a bound token carries. */
  jkt: string;
}

const keys = new Map<string, Promise<ProofKey>>();

/** A proof key pair, one per alg and slot for the whole run. */
export function proofKey(alg: TestAlg = "ES256", slot = 0): Promise<ProofKey> {
  const id = `${alg}:${slot}`;
  let key = keys.get(id);
  if (!key) {
    key = (async () => {
      const pair = await generateKeyPair(alg, {
        extractable: true,
        ...(alg.startsWith("RS") || alg.startsWith("PS") ? { modulusLength: 2048 } : {}),
      });
      const publicJwk = await exportJWK(pair.publicKey);
      return { alg, privateKey: pair.privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, "sha256") };
    })();
    keys.set(id, key);
  }
  return key;
}

export interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  ath?: string;
  /** Claims to remove. */
  omit?: string[];
  /** Header members to set (undefined removes one); `jwk` defaults to the key's public JWK. */
  header?: Record<string, unknown>;
  /** Sign with this key instead, keeping the header's jwk (a proof signed by another key than it names). */
  signWith?: ProofKey;
}

/** A signed DPoP proof for POST `htu` now, by `key`, with whatever the options change. */
export async function buildProof(key: ProofKey, htu: string, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: options.jti ?? crypto.randomUUID(),
    htm: options.htm ?? "POST",
    htu: options.htu ?? htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  if (options.ath !== undefined) claims.ath = options.ath;
  for (const name of options.omit ?? []) delete claims[name];
  const header = { alg: key.alg, typ: "dpop+jwt", jwk: key.publicJwk, ...options.header } as Record<string, unknown>;
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign((options.signWith ?? key).privateKey);
}

/** A compact JWS with exactly these header and claims segments and a signature of zeros (for parser checks). */
export function unsignedProof(header: unknown, claims: unknown): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(claims)}.${base64url.encode(new Uint8Array(64))}`;
}
