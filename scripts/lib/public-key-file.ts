// Reads the public keys a client registers from a file: one public JWK, a JWK Set, or PEM public keys (SPKI, as
// `openssl pkey -pubout` writes), and a federated issuer's JWK Set (JSON only, kids kept as the issuer gave them).
// Refuses anything the Worker would refuse (same validator); assigns a client key's missing kid as its RFC 7638
// thumbprint. Reads the file only; writes nothing.
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint } from "jose";
import { type ClientJwk, JwkError, validatePublicJwkSet } from "../../src/protocol/jwk";
import { CliError, describeError } from "./cli-error";

/** Far above any real key file (a JWK Set of 20 RSA-8192 keys is about 30 KiB); guards against wrong files. */
const MAX_KEY_FILE_BYTES = 256 * 1024;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Parses the PEM public keys in `text` into JWKs, refusing private keys and other PEM contents. */
function jwksFromPem(text: string, label: string): unknown[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new CliError("input_invalid", `${label}: the PEM block is malformed`);
  return blocks.map((block) => {
    const kind = block[1]!;
    if (kind.includes("PRIVATE KEY")) {
      throw new CliError(
        "key_refused",
        `${label}: the file contains private key material (PEM ${kind}): register the public key only (openssl pkey -in key.pem -pubout)`,
      );
    }
    if (kind !== "PUBLIC KEY" && kind !== "RSA PUBLIC KEY") {
      throw new CliError(
        "input_invalid",
        `${label}: PEM ${kind} is not a public key: expected "BEGIN PUBLIC KEY" (SPKI)`,
      );
    }
    let key: KeyObject;
    try {
      key = createPublicKey(block[0]);
    } catch (err) {
      throw new CliError("input_invalid", `${label}: not a readable public key (${describeError(err)})`);
    }
    const type = key.asymmetricKeyType ?? "unknown";
    const curve = key.asymmetricKeyDetails?.namedCurve;
    try {
      return key.export({ format: "jwk" });
    } catch {
      throw new CliError(
        "key_refused",
        `${label}: unsupported key type ${type}${curve ? ` (curve ${curve})` : ""}: use RSA, EC (P-256, P-384, P-521) or Ed25519`,
      );
    }
  });
}

function jwksFromJson(text: string, label: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError("input_invalid", `${label}: neither JSON (a JWK or JWK Set) nor a PEM public key`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CliError("input_invalid", `${label}: expected a JWK, a JWK Set or a PEM public key`);
  }
  if ("keys" in parsed) {
    const keys = (parsed as { keys: unknown }).keys;
    if (!Array.isArray(keys)) throw new CliError("input_invalid", `${label}: the JWK Set's "keys" must be an array`);
    return keys;
  }
  if ("kty" in parsed) return [parsed];
  throw new CliError(
    "input_invalid",
    `${label}: expected a JWK (with "kty"), a JWK Set (with "keys") or a PEM public key`,
  );
}

function validated(keys: unknown[], label: string): ClientJwk[] {
  try {
    return validatePublicJwkSet({ keys });
  } catch (err) {
    if (err instanceof JwkError) throw new CliError("key_refused", `${label}: ${err.message}`);
    throw err;
  }
}

/** The validated public keys in `text`, each with a kid (its RFC 7638 thumbprint unless the input named one). */
export async function parsePublicKeys(text: string, label: string): Promise<ClientJwk[]> {
  const raw = text.includes("-----BEGIN") ? jwksFromPem(text, label) : jwksFromJson(text, label);
  const keys = validated(raw, label);
  const withKids = await Promise.all(
    keys.map(async (key) =>
      key.kid === undefined ? { ...key, kid: await calculateJwkThumbprint(key as never) } : key,
    ),
  );
  // Assigned kids can collide (the same key twice): validate again so duplicates are refused here too.
  return validated(withKids, label);
}

async function readKeyFileText(path: string, label: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CliError(
      "input_invalid",
      `cannot read ${label}: ${(err as { code?: string }).code ?? describeError(err)}`,
    );
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) throw new CliError("input_invalid", `${label}: too large for a key file`);
  return bytes.toString("utf8");
}

/** Reads and parses a public key file; see parsePublicKeys. */
export async function readPublicKeyFile(path: string, label = path): Promise<ClientJwk[]> {
  return parsePublicKeys(await readKeyFileText(path, label), label);
}

/**
 * Reads an external issuer's keys (a JWK Set, as its jwks_uri serves it, or one JWK), validated like client keys but
 * kept as given: its tokens name the issuer's own kids, which a thumbprint would not match. PEM is refused, since it
 * carries no kid at all.
 */
export async function readIssuerKeySetFile(path: string, label = path): Promise<ClientJwk[]> {
  const text = await readKeyFileText(path, label);
  if (text.includes("-----BEGIN")) {
    throw new CliError(
      "input_invalid",
      `${label}: expected the issuer's JWK Set (JSON, as its jwks_uri serves it), not PEM: a PEM key has no kid to match its tokens`,
    );
  }
  return validated(jwksFromJson(text, label), label);
}
