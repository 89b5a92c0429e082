// Makes client key pairs with jose (ES256, PS256, EdDSA) and writes their public halves as a JWK Set file for
// `clients add`. The kid is the RFC 7638 thumbprint, the one the CLI would assign. Private keys stay in memory.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";

export const CLIENT_ALGORITHMS = ["ES256", "PS256", "EdDSA"] as const;
export type ClientAlgorithm = (typeof CLIENT_ALGORITHMS)[number];

export interface ClientKey {
  alg: ClientAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: Record<string, unknown>;
}

export async function generateClientKey(alg: ClientAlgorithm): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: false });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, kid, privateKey, publicJwk: { ...jwk, kid, alg, use: "sig" } };
}

/** Writes `{ keys: [...] }` with the public JWKs to `<folder>/<name>.jwks.json` and returns the path. */
export async function writePublicJwks(folder: string, name: string, keys: ClientKey[]): Promise<string> {
  const path = join(folder, `${name}.jwks.json`);
  await writeFile(path, JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  return path;
}
