// `token`: the client side of the flow for people without an OAuth library. Signs a private_key_jwt assertion,
// calls the token endpoint found through metadata and prints the JSON response. Never prints the private key.
import { CliError } from "../cli-error";
import { type Command, listOption, requiredStringOption, stringOption } from "../command-line";
import { readSigningKeyFile } from "../private-key-file";
import { normalizeIssuer, requestToken } from "../token-client";
import { resolveUserPath } from "../user-paths";

/** The issuer `npm run dev` serves by default (wrangler.toml [vars] ISSUER). */
export const DEFAULT_ISSUER = "http://localhost:8787";

export const tokenCommand: Command = {
  name: "token",
  summary: "Get an access token as a client: sign an assertion with its private key and call the token endpoint.",
  usage:
    'token --client-id <id> --key <private key file> [--issuer URL] [--scope "a b"] [--resource <uri>]... [--alg <alg>] [--kid <kid>]',
  positionals: [],
  options: {
    "client-id": { type: "string" },
    key: { type: "string" },
    issuer: { type: "string" },
    scope: { type: "string" },
    resource: { type: "string", multiple: true },
    alg: { type: "string" },
    kid: { type: "string" },
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

Prints the token endpoint's JSON response on stdout. An error response (e.g. invalid_client) is printed too,
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
    const scope = stringOption(values, "scope");
    const response = await requestToken({
      issuer,
      clientId,
      key,
      ...(scope !== undefined ? { scope } : {}),
      resources: listOption(values, "resource"),
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
