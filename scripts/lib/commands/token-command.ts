// `token`: the client side of the flow for people without an OAuth library. Signs a private_key_jwt assertion (and a
// DPoP proof when asked), calls the token endpoint found through metadata and prints the JSON response. Never prints
// a private key.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import type { ClientJwk } from "../../../src/protocol/jwk";
import { CliError } from "../cli-error";
import {
  booleanOption,
  type Command,
  listOption,
  type OptionValues,
  requiredStringOption,
  stringOption,
} from "../command-line";
import type { AssertionSigningKey } from "../private-key-file";
import { readSigningKeyFile } from "../private-key-file";
import { normalizeIssuer, requestToken } from "../token-client";
import { resolveUserPath } from "../user-paths";

/** The issuer `npm run dev` serves by default (wrangler.toml [vars] ISSUER). */
export const DEFAULT_ISSUER = "http://localhost:8787";

/** The DPoP proof key --dpop or --dpop-key names, if any. */
async function dpopKeyFrom(commandName: string, values: OptionValues): Promise<AssertionSigningKey | undefined> {
  const path = stringOption(values, "dpop-key");
  if (booleanOption(values, "dpop") && path !== undefined) {
    throw new CliError("usage", `${commandName}: choose one of --dpop and --dpop-key`);
  }
  if (path !== undefined) return readSigningKeyFile(resolveUserPath(path), { label: path });
  if (!booleanOption(values, "dpop")) return undefined;
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const publicJwk = (await exportJWK(publicKey)) as ClientJwk;
  return { alg: "ES256", kid: await calculateJwkThumbprint(publicJwk as JWK), key: privateKey, publicJwk };
}

export const tokenCommand: Command = {
  name: "token",
  summary: "Get an access token as a client: sign an assertion with its private key and call the token endpoint.",
  usage:
    'token --client-id <id> --key <private key file> [--issuer URL] [--scope "a b"] [--resource <uri>]... [--alg <alg>] [--kid <kid>] [--dpop | --dpop-key <file>]',
  positionals: [],
  options: {
    "client-id": { type: "string" },
    key: { type: "string" },
    issuer: { type: "string" },
    scope: { type: "string" },
    resource: { type: "string", multiple: true },
    alg: { type: "string" },
    kid: { type: "string" },
    dpop: { type: "boolean" },
    "dpop-key": { type: "string" },
  },
  help: `Options:
  --client-id <id>     the registered client_id (iss and sub of the assertion)
  --key <file>         the client's private key: PKCS#8 PEM (\`openssl genpkey\` output) or a private JWK
  --issuer <URL>       the authorization server (default ${DEFAULT_ISSUER}); the token endpoint is read from
                       its RFC 8414 metadata, and the assertion's aud is this issuer
  --scope "a b"        scopes to request (default: the client's default scopes)
  --resource <uri>     resource indicator (RFC 8707) for the token's aud (repeatable)
  --alg <alg>          assertion algorithm (default: the JWK's alg, else ES256/ES384/ES512 by curve, EdDSA,
                       or RS256 for RSA keys; pass PS256 for RSA-PSS)
  --kid <kid>          key id in the header (default: the JWK's kid, else the RFC 7638 thumbprint of the key,
                       which is what \`clients add\` assigns)
  --dpop               ask for a DPoP-bound token (RFC 9449), with a proof signed by an ES256 key made for this
                       request and kept nowhere (enough to see that a --dpop-bound client gets its token)
  --dpop-key <file>    the same with this private key as the proof key (PEM or JWK, e.g. from \`keys generate\`),
                       so the token can be used with proofs signed by it; never register this key

A server that asks for a DPoP nonce (use_dpop_nonce) is asked again once, with its nonce. Prints the token
endpoint's JSON response on stdout. An error response (e.g. invalid_client) is printed too,
and the exit status is then 1.

Example:
  npm run cli -- token --client-id acme --key acme.private.pem --scope orders.read`,
  async run({ values }) {
    const clientId = requiredStringOption(this, values, "client-id");
    const keyPath = requiredStringOption(this, values, "key");
    const issuer = normalizeIssuer(stringOption(values, "issuer") ?? DEFAULT_ISSUER);
    const alg = stringOption(values, "alg");
    const kid = stringOption(values, "kid");
    const key = await readSigningKeyFile(resolveUserPath(keyPath), {
      label: keyPath,
      ...(alg !== undefined ? { alg } : {}),
      ...(kid !== undefined ? { kid } : {}),
    });
    const dpop = await dpopKeyFrom(this.name, values);
    const scope = stringOption(values, "scope");
    const response = await requestToken({
      issuer,
      clientId,
      key,
      ...(scope !== undefined ? { scope } : {}),
      resources: listOption(values, "resource"),
      ...(dpop !== undefined ? { dpop } : {}),
    });
    process.stdout.write(`${JSON.stringify(response.body, null, 2)}\n`);
    if (!response.ok) {
      const { error, error_description: description } = response.body;
      throw new CliError(
        "token_error_response",
        `the token endpoint answered HTTP ${response.status} ${String(error ?? "")}${description ? `: ${String(description)}` : ""}`,
      );
    }
  },
};
