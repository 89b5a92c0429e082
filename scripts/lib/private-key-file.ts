// Loads the private key a client signs its assertions with: a PKCS#8 PEM (also SEC1 / PKCS#1, as OpenSSL writes
// them) or a private JWK. Picks the algorithm and the kid. Reads the file only; never prints key material.
import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint, importJWK, type JWK } from "jose";
import type { AssertionAlgorithm } from "../../src/protocol/constants";
import {
  type ClientJwk,
  isAssertionAlgorithm,
  JwkError,
  keyFitsAlgorithm,
  PRIVATE_JWK_MEMBERS,
  validatePublicJwk,
} from "../../src/protocol/jwk";
import { CliError, describeError } from "./cli-error";

export interface AssertionSigningKey {
  alg: AssertionAlgorithm;
  kid: string;
  key: CryptoKey | Uint8Array;
  publicJwk: ClientJwk;
}

const PUBLIC_MEMBERS = ["kty", "crv", "n", "e", "x", "y"] as const;

function pick(jwk: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (jwk[name] !== undefined) out[name] = jwk[name];
  return out;
}

function jwkFromPem(text: string, label: string): Record<string, unknown> {
  if (text.includes("ENCRYPTED PRIVATE KEY")) {
    throw new CliError(
      "input_invalid",
      `${label}: encrypted keys are not supported: decrypt it first (openssl pkey -in ${label} -out plain.pem)`,
    );
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new CliError(
      "input_invalid",
      `${label}: no private key found: --key needs the private key (PEM "BEGIN PRIVATE KEY" or a private JWK)`,
    );
  }
  try {
    return createPrivateKey(text).export({ format: "jwk" }) as Record<string, unknown>;
  } catch (err) {
    throw new CliError("input_invalid", `${label}: not a usable private key (${describeError(err)})`);
  }
}

function jwkFromJson(text: string, label: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError("input_invalid", `${label}: neither a PEM private key nor a JSON private JWK`);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (Array.isArray(keys)) {
    if (keys.length !== 1)
      throw new CliError("input_invalid", `${label}: a JWK Set must hold exactly one key to sign with`);
    parsed = keys[0];
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CliError("input_invalid", `${label}: expected a private JWK object`);
  }
  const jwk = parsed as Record<string, unknown>;
  if (jwk.kty === "oct")
    throw new CliError("key_refused", `${label}: symmetric (oct) keys cannot sign client assertions`);
  if (typeof jwk.d !== "string")
    throw new CliError("input_invalid", `${label}: the JWK holds no private key ("d" is missing)`);
  return jwk;
}

function defaultAlgorithm(key: ClientJwk): AssertionAlgorithm {
  if (key.alg !== undefined) return key.alg;
  if (key.kty === "RSA") return "RS256";
  if (key.kty === "OKP") return "EdDSA";
  return key.crv === "P-384" ? "ES384" : key.crv === "P-521" ? "ES512" : "ES256";
}

/**
 * The signing key in `path`. `alg`: --alg, else the JWK's alg, else the usual one for the key (RSA: RS256).
 * `kid`: --kid, else the JWK's kid, else the RFC 7638 thumbprint of the public key (what `clients add` assigns).
 */
export async function readSigningKeyFile(
  path: string,
  options: { alg?: string; kid?: string; label?: string } = {},
): Promise<AssertionSigningKey> {
  const label = options.label ?? path;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(
      "input_invalid",
      `cannot read ${label}: ${(err as { code?: string }).code ?? describeError(err)}`,
    );
  }
  const jwk = text.includes("-----BEGIN") ? jwkFromPem(text, label) : jwkFromJson(text, label);

  let publicJwk: ClientJwk;
  try {
    publicJwk = validatePublicJwk({
      ...pick(jwk, PUBLIC_MEMBERS),
      ...(typeof jwk.alg === "string" ? { alg: jwk.alg } : {}),
    });
  } catch (err) {
    if (err instanceof JwkError) throw new CliError("key_refused", `${label}: ${err.message}`);
    throw err;
  }
  const alg = options.alg ?? defaultAlgorithm(publicJwk);
  if (!isAssertionAlgorithm(alg)) throw new CliError("usage", `--alg ${alg} is not a supported signature algorithm`);
  if (!keyFitsAlgorithm({ ...publicJwk, alg: undefined }, alg)) {
    throw new CliError(
      "usage",
      `--alg ${alg} does not fit this ${publicJwk.kty}${publicJwk.crv ? ` ${publicJwk.crv}` : ""} key`,
    );
  }
  const kid =
    options.kid ??
    (typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint(publicJwk as JWK));
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK({ ...pick(jwk, PUBLIC_MEMBERS), ...pick(jwk, PRIVATE_JWK_MEMBERS) } as JWK, alg);
  } catch (err) {
    throw new CliError("input_invalid", `${label}: the key cannot be used for ${alg} (${describeError(err)})`);
  }
  return { alg, kid, key, publicJwk };
}
