// Example for docs/clients.md: loads a private JWK written by `keys generate` into the CryptoKey, kid and alg the
// client examples take. Reads one file; never sends the key anywhere.
import { readFile } from "node:fs/promises";
import { importJWK, type CryptoKey, type JWK } from "jose";

export async function loadClientKey(path: string): Promise<{ privateKey: CryptoKey; kid: string; alg: string }> {
  const jwk = JSON.parse(await readFile(path, "utf8")) as JWK & { kid: string; alg: string };
  const privateKey = (await importJWK(jwk, jwk.alg)) as CryptoKey;
  return { privateKey, kid: jwk.kid, alg: jwk.alg };
}
