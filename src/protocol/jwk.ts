// Rules for the public keys a client may register, shared by the Worker (on every record read) and the CLI
// (before anything is written). Pure: no I/O, no clock, no crypto import; it checks shape, type, curve and size.
import { ASSERTION_ALGORITHMS, type AssertionAlgorithm, LIMITS } from "./constants";

export type KeyType = "RSA" | "EC" | "OKP";

/** A registered client public key after validation. */
export interface ClientJwk {
  kty: KeyType;
  kid?: string;
  alg?: AssertionAlgorithm;
  use?: "sig";
  key_ops?: string[];
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
}

/** Members that only private or symmetric keys have (RFC 7518 section 6). A registry holds public keys only. */
export const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/** Coordinate length in bytes for each accepted curve. */
const CURVE_BYTES: Record<string, number> = { "P-256": 32, "P-384": 48, "P-521": 66, Ed25519: 32 };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class JwkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwkError";
  }
}

/** Byte length of a base64url string (no padding), or -1 when it is not base64url. */
function base64urlByteLength(value: unknown): number {
  if (typeof value !== "string" || !BASE64URL.test(value) || value.length % 4 === 1) return -1;
  return Math.floor((value.length * 3) / 4);
}

/** The bytes of a base64url string (padding added) as a binary string; call only once base64urlByteLength passed. */
function base64urlBinary(value: string): string {
  return atob(value.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (value.length % 4)) % 4));
}

/** RSA modulus size in bits, ignoring leading zero bytes; -1 when not decodable. */
export function rsaModulusBits(n: string): number {
  if (base64urlByteLength(n) < 0) return -1;
  const binary = base64urlBinary(n);
  let i = 0;
  while (i < binary.length && binary.charCodeAt(i) === 0) i++;
  if (i === binary.length) return 0;
  const first = binary.charCodeAt(i);
  return (binary.length - i - 1) * 8 + (32 - Math.clz32(first));
}

/**
 * The RSA public exponent `e` as a number, or -1 when it is not base64url or longer than four bytes. Leading zero
 * bytes are ignored.
 */
function rsaExponent(e: string): number {
  if (base64urlByteLength(e) <= 0) return -1;
  const digits = base64urlBinary(e).replace(/^\0+/, "");
  if (digits.length > 4) return -1;
  let value = 0;
  for (let i = 0; i < digits.length; i++) value = value * 256 + digits.charCodeAt(i);
  return value;
}

/** The key type and curve a JWS algorithm needs. */
export function keyRequirementFor(alg: AssertionAlgorithm): { kty: KeyType; crv?: string } {
  switch (alg) {
    case "RS256":
    case "RS384":
    case "RS512":
    case "PS256":
    case "PS384":
    case "PS512":
      return { kty: "RSA" };
    case "ES256":
      return { kty: "EC", crv: "P-256" };
    case "ES384":
      return { kty: "EC", crv: "P-384" };
    case "ES512":
      return { kty: "EC", crv: "P-521" };
    case "EdDSA":
    case "Ed25519":
      return { kty: "OKP", crv: "Ed25519" };
  }
}

export function isAssertionAlgorithm(value: unknown): value is AssertionAlgorithm {
  return typeof value === "string" && (ASSERTION_ALGORITHMS as readonly string[]).includes(value);
}

/** Two algorithm names that denote the same signature scheme for a key (EdDSA over Ed25519 is Ed25519). */
export function sameAlgorithm(a: AssertionAlgorithm, b: AssertionAlgorithm): boolean {
  const norm = (x: AssertionAlgorithm) => (x === "Ed25519" ? "EdDSA" : x);
  return norm(a) === norm(b);
}

/** True when a key of this shape can verify signatures made with `alg`. */
export function keyFitsAlgorithm(jwk: ClientJwk, alg: AssertionAlgorithm): boolean {
  const need = keyRequirementFor(alg);
  if (jwk.kty !== need.kty) return false;
  if (need.crv !== undefined && jwk.crv !== need.crv) return false;
  if (jwk.alg !== undefined && !sameAlgorithm(jwk.alg, alg)) return false;
  return true;
}

/**
 * Validates one public JWK for registration or use. Throws JwkError with a one-line reason. Returns a copy
 * holding only the members the service uses, so unknown members never reach a crypto import.
 */
export function validatePublicJwk(input: unknown): ClientJwk {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new JwkError("a key must be a JSON object");
  }
  const jwk = input as Record<string, unknown>;
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (member in jwk) {
      throw new JwkError(
        member === "k"
          ? "symmetric (oct) keys are refused: register an asymmetric public key"
          : "the key contains private key material: register the public key only",
      );
    }
  }
  const kty = jwk.kty;
  if (kty === "oct") throw new JwkError("symmetric (oct) keys are refused: register an asymmetric public key");
  if (kty !== "RSA" && kty !== "EC" && kty !== "OKP") {
    throw new JwkError(
      `unsupported key type ${JSON.stringify(String(kty)).slice(0, 40)}: use RSA, EC or OKP (Ed25519)`,
    );
  }
  const out: ClientJwk = { kty };

  if (jwk.kid !== undefined) {
    if (typeof jwk.kid !== "string" || jwk.kid.length === 0 || jwk.kid.length > LIMITS.maxKidLength) {
      throw new JwkError(`kid must be a non-empty string of at most ${LIMITS.maxKidLength} characters`);
    }
    out.kid = jwk.kid;
  }
  if (jwk.use !== undefined) {
    if (jwk.use !== "sig") throw new JwkError('the key is marked for "use" other than "sig"');
    out.use = "sig";
  }
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes("verify")) {
      throw new JwkError('key_ops, when present, must include "verify"');
    }
    if (jwk.key_ops.some((op) => op !== "verify")) {
      throw new JwkError('key_ops of a public client key may only be ["verify"]');
    }
    out.key_ops = ["verify"];
  }

  if (kty === "RSA") {
    if (typeof jwk.n !== "string" || typeof jwk.e !== "string" || base64urlByteLength(jwk.e) <= 0) {
      throw new JwkError("an RSA key needs base64url members n and e");
    }
    const bits = rsaModulusBits(jwk.n);
    if (bits < 0) throw new JwkError("the RSA modulus n is not base64url");
    if (bits < LIMITS.minRsaModulusBits) {
      throw new JwkError(`RSA keys must be at least ${LIMITS.minRsaModulusBits} bits (this one has ${bits})`);
    }
    if (bits > LIMITS.maxRsaModulusBits) {
      throw new JwkError(`RSA keys must be at most ${LIMITS.maxRsaModulusBits} bits (this one has ${bits})`);
    }
    // e = 1 makes every message its own signature; an even e is no RSA key; a long e only costs verification time.
    const exponent = rsaExponent(jwk.e);
    if (exponent < 3 || exponent % 2 === 0) {
      throw new JwkError("the RSA public exponent e must be an odd number from 3 to 2^32 - 1 (usually 65537, AQAB)");
    }
    out.n = jwk.n;
    out.e = jwk.e;
  } else {
    const crv = jwk.crv;
    const allowed = kty === "EC" ? ["P-256", "P-384", "P-521"] : ["Ed25519"];
    if (typeof crv !== "string" || !allowed.includes(crv)) {
      throw new JwkError(
        `unsupported curve ${JSON.stringify(String(crv)).slice(0, 40)} for ${kty}: use ${allowed.join(", ")}`,
      );
    }
    const size = CURVE_BYTES[crv];
    if (base64urlByteLength(jwk.x) !== size) throw new JwkError(`the ${crv} key's x coordinate has the wrong size`);
    out.crv = crv;
    out.x = jwk.x as string;
    if (kty === "EC") {
      if (base64urlByteLength(jwk.y) !== size) throw new JwkError(`the ${crv} key's y coordinate has the wrong size`);
      out.y = jwk.y as string;
    } else if (jwk.y !== undefined) {
      throw new JwkError("an Ed25519 key has no y coordinate");
    }
  }

  if (jwk.alg !== undefined) {
    if (!isAssertionAlgorithm(jwk.alg)) {
      throw new JwkError(`alg ${JSON.stringify(String(jwk.alg)).slice(0, 40)} is not an accepted signature algorithm`);
    }
    out.alg = jwk.alg;
    if (!keyFitsAlgorithm(out, jwk.alg)) throw new JwkError(`alg ${jwk.alg} does not match the key type or curve`);
  }
  return out;
}

/**
 * Validates a JWK Set: 1..maxKeysPerClient valid public keys, and no two keys of one type sharing a `kid`
 * (which would make key selection ambiguous).
 */
export function validatePublicJwkSet(input: unknown): ClientJwk[] {
  if (typeof input !== "object" || input === null || !Array.isArray((input as { keys?: unknown }).keys)) {
    throw new JwkError('a JWK Set must be an object with a "keys" array');
  }
  const keys = (input as { keys: unknown[] }).keys;
  if (keys.length === 0) throw new JwkError("the JWK Set holds no keys");
  if (keys.length > LIMITS.maxKeysPerClient) {
    throw new JwkError(`a client may register at most ${LIMITS.maxKeysPerClient} keys`);
  }
  const seen = new Set<string>();
  return keys.map((key, index) => {
    let jwk: ClientJwk;
    try {
      jwk = validatePublicJwk(key);
    } catch (err) {
      if (err instanceof JwkError && keys.length > 1) throw new JwkError(`key ${index + 1}: ${err.message}`);
      throw err;
    }
    if (jwk.kid !== undefined) {
      const id = `${jwk.kty}\u0000${jwk.kid}`;
      if (seen.has(id)) throw new JwkError(`two ${jwk.kty} keys share the kid ${JSON.stringify(jwk.kid)}`);
      seen.add(id);
    }
    return jwk;
  });
}
