// `npm run demo`: the whole flow on one machine, in plain words. Starts the local server if none answers, makes a
// client key (temporary folder), registers it in local KV, gets a token and verifies it against the served JWKS.
// Uses the CLI's own code for each step. Stops any server it started; exits non-zero on any failure.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { CliError, describeError } from "./lib/cli-error";
import { generateClientKeyPair } from "./lib/client-key-pair";
import { registerClient } from "./lib/commands/clients-commands";
import { DEFAULT_ISSUER } from "./lib/commands/token-command";
import { type LocalServer, metadataIfServing, startLocalServer } from "./lib/local-server";
import { writeNewFiles } from "./lib/new-files";
import { readSigningKeyFile } from "./lib/private-key-file";
import { KvClientStore } from "./lib/stores/kv-client-store";
import { normalizeIssuer, requestToken } from "./lib/token-client";
import { resolveUserPath } from "./lib/user-paths";

/**
 * A new client each run: once a client has been used, its authority holds its record and the bootstrap path that the
 * demo takes (the local KV registry, no operator) can no longer change it.
 */
const CLIENT_ID = `demo-${crypto.randomUUID().slice(0, 8)}`;
const SCOPE = "demo.read";
const AUDIENCE = "https://api.example.test";

const HELP = `Usage: npm run demo [-- --issuer URL] [-- --persist-to <dir>]

Runs the whole flow locally and prints each step: start the server if none answers, generate a client key,
register the client in local KV, get a token, verify it against the server's JWKS.

  --issuer <URL>       where to look for a running server first (default ${DEFAULT_ISSUER})
  --persist-to <dir>   keep the server's and the registry's state in <dir> (always starts a fresh server)
`;

function step(number: number, text: string): void {
  process.stdout.write(`${number}. ${text}\n`);
}

/** What the demo made that must go away however it ends, even on Ctrl-C. */
interface Leftovers {
  server?: LocalServer;
  folder?: string;
}

async function runDemo(options: { issuer: string; persistTo?: string }, started: Leftovers): Promise<void> {
  process.stdout.write("Token service demo: private_key_jwt client authentication, client_credentials grant.\n\n");

  let issuer = options.issuer;
  const running = options.persistTo === undefined ? await metadataIfServing(issuer) : null;
  if (running) {
    step(1, `A token service already answers at ${issuer}; using it.`);
  } else {
    const why =
      options.persistTo === undefined
        ? `No server answered at ${issuer}, so`
        : `With throwaway state in ${options.persistTo},`;
    process.stdout.write(`   (starting \`npm run dev\`; this takes a few seconds)\n`);
    started.server = await startLocalServer(options.persistTo === undefined ? {} : { persistTo: options.persistTo });
    issuer = started.server.issuer;
    step(1, `${why} a local server was started at ${issuer}.`);
  }

  const folder = await mkdtemp(join(tmpdir(), "token-service-demo-"));
  started.folder = folder;
  try {
    const pair = await generateClientKeyPair("ES256");
    const privatePath = join(folder, "demo.private.jwk");
    const publicPath = join(folder, "demo.public.jwk");
    await writeNewFiles(
      [
        { path: privatePath, content: JSON.stringify(pair.privateJwk), mode: 0o600 },
        { path: publicPath, content: JSON.stringify(pair.publicJwk), mode: 0o644 },
      ],
      false,
    );
    step(
      2,
      `Generated the client's ES256 key pair in ${folder} (kid ${pair.kid}, the key's RFC 7638 thumbprint). The private key never leaves the client.`,
    );

    const store = new KvClientStore(
      options.persistTo === undefined ? { kind: "local" } : { kind: "local", persistTo: options.persistTo },
    );
    const { replaced } = await registerClient(
      store,
      CLIENT_ID,
      { path: publicPath },
      { scope: [SCOPE], audience: [AUDIENCE], name: "Demo client" },
    );
    step(
      3,
      `${replaced ? "Re-registered" : "Registered"} client "${CLIENT_ID}" in ${store.where} with only its public key, ` +
        `allowed scope "${SCOPE}" and audience ${AUDIENCE}.`,
    );

    const key = await readSigningKeyFile(privatePath);
    const response = await requestToken({ issuer, clientId: CLIENT_ID, key, scope: SCOPE });
    if (!response.ok) {
      throw new CliError(
        "token_error_response",
        `the token endpoint refused: HTTP ${response.status} ${JSON.stringify(response.body)}`,
      );
    }
    const accessToken = response.body.access_token;
    if (typeof accessToken !== "string")
      throw new CliError("token_error_response", "the response holds no access_token");
    step(
      4,
      `Found the token endpoint ${response.metadata.token_endpoint} in the server's metadata, signed a one-minute client ` +
        `assertion (iss = sub = "${CLIENT_ID}", aud = "${issuer}") and got a ${String(response.body.token_type)} token ` +
        `valid for ${String(response.body.expires_in)} s.`,
    );

    const jwksUri = response.metadata.jwks_uri;
    if (typeof jwksUri !== "string") throw new CliError("metadata_invalid", "the metadata names no jwks_uri");
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(accessToken, createRemoteJWKSet(new URL(jwksUri)), {
        issuer,
        audience: AUDIENCE,
        typ: "at+jwt",
      });
    } catch (err) {
      throw new CliError("token_error_response", `the access token did not verify: ${describeError(err)}`);
    }
    const claims = verified.payload;
    if (claims.sub !== CLIENT_ID || claims.client_id !== CLIENT_ID || claims.scope !== SCOPE) {
      throw new CliError(
        "token_error_response",
        `the access token's claims are not what was asked for: ${JSON.stringify(claims)}`,
      );
    }
    step(
      5,
      `Verified the token's ${verified.protectedHeader.alg} signature against ${jwksUri} (key ${verified.protectedHeader.kid}) ` +
        `and its claims: typ at+jwt, iss ${claims.iss}, aud ${String(claims.aud)}, sub ${claims.sub}, scope "${String(claims.scope)}".`,
    );
    process.stdout.write(`\nDone: a verified access token for "${CLIENT_ID}":\n${accessToken}\n`);
  } finally {
    await rm(folder, { recursive: true, force: true });
    delete started.folder;
  }
}

async function main(): Promise<number> {
  let values: { issuer?: string; "persist-to"?: string; help?: boolean };
  try {
    values = parseArgs({
      options: { issuer: { type: "string" }, "persist-to": { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`error: demo: ${describeError(err)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const started: Leftovers = {};
  let stopping = false;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches this process twice (from the terminal and relayed by tsx): act once, ignore the rest.
    if (stopping) return;
    stopping = true;
    const folder = started.folder;
    void Promise.allSettled([
      started.server?.stop(),
      folder ? rm(folder, { recursive: true, force: true }) : undefined,
    ]).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", stopOnSignal);
  process.on("SIGTERM", stopOnSignal);
  try {
    const issuer = normalizeIssuer(values.issuer ?? DEFAULT_ISSUER);
    const persistTo = values["persist-to"] === undefined ? undefined : resolveUserPath(values["persist-to"]);
    await runDemo(persistTo === undefined ? { issuer } : { issuer, persistTo }, started);
    return 0;
  } catch (err) {
    process.stderr.write(`error: demo: ${describeError(err)}\n`);
    const log = started.server?.log();
    if (log && !(err instanceof CliError && err.code !== "server_unreachable"))
      process.stderr.write(`server output:\n${log}\n`);
    return 1;
  } finally {
    if (started.server) {
      await started.server.stop();
      process.stdout.write("The local server started for the demo has been stopped.\n");
    }
  }
}

process.exitCode = await main();
