// Generates a client's key pair for private_key_jwt: WebCrypto through jose (never generateKeyPairSync), with
// kid = RFC 7638 thumbprint. Returns the material as JWK and PEM; never writes or prints it.
import { calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from "jose";

export const CLIENT_KEY_ALGORITHMS = ["ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"] as const;
export type ClientKeyAlgorithm = (typeof CLIENT_KEY_ALGORITHMS)[number];

/** RSA modulus for new client keys: the minimum the registry accepts is 2048; 3072 lasts past 2030 (NIST). */
const RSA_MODULUS_BITS = 3072;

export function isClientKeyAlgorithm(value: string): value is ClientKeyAlgorithm {
  return (CLIENT_KEY_ALGORITHMS as readonly string[]).includes(value);
}

export interface ClientKeyPair {
  alg: ClientKeyAlgorithm;
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  privatePem: string;
  publicPem: string;
}

function withFinalNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

export async function generateClientKeyPair(alg: ClientKeyAlgorithm): Promise<ClientKeyPair> {
  const options =
    alg === "EdDSA" ? { crv: "Ed25519", extractable: true } : { extractable: true, modulusLength: RSA_MODULUS_BITS };
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  const publicCore = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicCore);
  const labels = { kid, alg, use: "sig" };
  return {
    alg,
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), ...labels },
    publicJwk: { ...publicCore, ...labels },
    privatePem: withFinalNewline(await exportPKCS8(privateKey)),
    publicPem: withFinalNewline(await exportSPKI(publicKey)),
  };
}
