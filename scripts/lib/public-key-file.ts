// Reads the public keys a client registers from a file: one public JWK, a JWK Set, or PEM public keys (SPKI, as
// `openssl pkey -pubout` writes). Refuses anything the Worker would refuse (same validator); assigns missing kids
// as RFC 7638 thumbprints. Reads the file only; writes nothing.
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

/** Reads and parses a public key file; see parsePublicKeys. */
export async function readPublicKeyFile(path: string, label = path): Promise<ClientJwk[]> {
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
  return parsePublicKeys(bytes.toString("utf8"), label);
}
