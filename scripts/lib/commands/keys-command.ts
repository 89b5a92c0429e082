// `keys generate`: makes a client key pair and writes it to files (private key 0600, never overwritten
// without --force). Touches no registry and no network.

import { CliError } from "../cli-error";
import { CLIENT_KEY_ALGORITHMS, generateClientKeyPair, isClientKeyAlgorithm } from "../client-key-pair";
import { booleanOption, type Command, stringOption } from "../command-line";
import { writeNewFiles } from "../new-files";
import { resolveUserPath } from "../user-paths";

export const keysGenerate: Command = {
  name: "keys generate",
  summary: "Generate a client key pair for private_key_jwt (kid = RFC 7638 thumbprint).",
  usage: "keys generate [--alg ES256|ES384|ES512|PS256|RS256|EdDSA] [--out PREFIX] [--format jwk|pem] [--force]",
  positionals: [],
  options: {
    alg: { type: "string" },
    out: { type: "string" },
    format: { type: "string" },
    force: { type: "boolean" },
  },
  help: `Options:
  --alg <alg>        signature algorithm (default ES256); RSA keys are 3072 bits
  --out <PREFIX>     file name prefix (default: client), giving PREFIX.private.jwk and PREFIX.public.jwk
  --format jwk|pem   jwk (default): JWKs that carry kid and alg; pem: PREFIX.private.pem (PKCS#8) and
                     PREFIX.public.pem (SPKI), as openssl writes them
  --force            overwrite existing files

The private key file is written with mode 0600. Register the public file with
\`clients add <client_id> --jwks PREFIX.public.jwk\`, then sign with \`token --key PREFIX.private.jwk\`.

Example:
  npm run cli -- keys generate --alg ES256 --out ./acme`,
  async run({ values }) {
    const alg = stringOption(values, "alg") ?? "ES256";
    if (!isClientKeyAlgorithm(alg)) {
      throw new CliError("usage", `keys generate: --alg must be one of ${CLIENT_KEY_ALGORITHMS.join(", ")}`);
    }
    const format = stringOption(values, "format") ?? "jwk";
    if (format !== "jwk" && format !== "pem") throw new CliError("usage", "keys generate: --format must be jwk or pem");
    const prefix = stringOption(values, "out") ?? "client";
    if (prefix === "" || prefix.endsWith("/"))
      throw new CliError("usage", "keys generate: --out needs a file name prefix, not a folder");
    const base = resolveUserPath(prefix);
    const privatePath = `${base}.private.${format}`;
    const publicPath = `${base}.public.${format}`;

    const pair = await generateClientKeyPair(alg);
    const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    await writeNewFiles(
      [
        { path: privatePath, content: format === "jwk" ? json(pair.privateJwk) : pair.privatePem, mode: 0o600 },
        { path: publicPath, content: format === "jwk" ? json(pair.publicJwk) : pair.publicPem, mode: 0o644 },
      ],
      booleanOption(values, "force"),
    );
    const shown = { private: `${prefix}.private.${format}`, public: `${prefix}.public.${format}` };
    process.stdout.write(
      `Generated a key pair (alg ${alg}, kid ${pair.kid})\n` +
        `  private key: ${shown.private} (mode 0600; keep it secret, never register it)\n` +
        `  public key:  ${shown.public} (register this one: clients add <client_id> --jwks ${shown.public})\n`,
    );
  },
};
