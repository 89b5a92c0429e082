// Restarting `npm run dev` on the same state after rotating its signing key (CLI `signing-key rotate --in-place`):
// spent jtis stay spent, a client over its rate limit stays over it, registered clients still work, old tokens still
// verify and new ones carry the new kid.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTokenWithOpenidClient } from "./examples/openid-client";
import { verifyAccessToken } from "./examples/verify-access-token";
import { addClient, rotateSigningKeys, writeSigningKeysEnvFile } from "./support/cli";
import { type ClientKey, generateClientKey, writePublicJwks } from "./support/client-keys";
import { type DevServer, startDevServer, stopAllDevServers } from "./support/dev-server";
import { withAuditLine } from "./support/server-audit";
import { postAssertion, signAssertion, type TokenResponse } from "./support/token-request";

const CLIENT_ID = "e2e-lifecycle";
const LIMITED_ID = "e2e-lifecycle-limited";
const SCOPE = "reports.read";
/** Long enough to outlive a slow restart, within the server's 300 s limit. */
const ASSERTION_LIFETIME_SECONDS = 290;
/** Two server starts, two CLI calls and a key rotation, on a machine that may be busy. */
const SETUP_TIMEOUT_MS = 600_000;

let folder: string;
let server: DevServer | undefined;
let issuer: string;
let key: ClientKey;
let tokenBeforeRestart: string;
let kidBeforeRestart: string | undefined;
let replayAfterRestart: TokenResponse;
let replayReason: string | undefined;
let limitedKey: ClientKey;
const limitedBeforeRestart: string[] = [];
let limitedAfterRestart: string | undefined;
let freshJtiAfterRestart: TokenResponse;
let tokenAfterRestart: string;
let activeKidInEnvFile: string;

async function readActiveKid(envFile: string): Promise<string> {
  const line = /^SIGNING_KEYS='(.*)'$/m.exec(await readFile(envFile, "utf8"));
  return (JSON.parse(line![1]!) as { keys: { kid: string }[] }).keys[0]!.kid;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "token-service-e2e-lifecycle-"));
  const persistTo = join(folder, "state");
  const envFile = await writeSigningKeysEnvFile(folder);
  const logFile = join(folder, "server.log");
  key = await generateClientKey("PS256");

  server = await startDevServer({ persistTo, envFile, logFile });
  issuer = server.issuer;
  await addClient(persistTo, CLIENT_ID, await writePublicJwks(folder, CLIENT_ID, [key]), ["--scope", SCOPE]);
  limitedKey = await generateClientKey("ES256");
  await addClient(persistTo, LIMITED_ID, await writePublicJwks(folder, LIMITED_ID, [limitedKey]), [
    "--rate-limit",
    "3/3600",
  ]);
  const limited = async () =>
    withAuditLine(logFile, async () =>
      postAssertion(issuer, await signAssertion({ clientId: LIMITED_ID, key: limitedKey, audience: issuer })),
    );
  for (let i = 0; i < 4; i++) {
    const { result, audit } = await limited();
    limitedBeforeRestart.push(audit.reason ?? String(result.status));
  }
  const first = await getTokenWithOpenidClient({
    issuer,
    clientId: CLIENT_ID,
    privateKey: key.privateKey,
    kid: key.kid,
    scope: SCOPE,
  });
  tokenBeforeRestart = first.access_token;
  kidBeforeRestart = (await verifyAccessToken(issuer, tokenBeforeRestart, issuer)).protectedHeader.kid;

  // Spend one jti, and sign a second assertion alike in every way but its jti, to send after the restart.
  const spent = await signAssertion({
    clientId: CLIENT_ID,
    key,
    audience: issuer,
    lifetimeSeconds: ASSERTION_LIFETIME_SECONDS,
  });
  const unspent = await signAssertion({
    clientId: CLIENT_ID,
    key,
    audience: issuer,
    lifetimeSeconds: ASSERTION_LIFETIME_SECONDS,
  });
  expect((await postAssertion(issuer, spent)).status).toBe(200);

  await server.stop();
  await rotateSigningKeys(envFile);
  activeKidInEnvFile = await readActiveKid(envFile);
  server = await startDevServer({ persistTo, envFile, port: server.port, logFile });
  expect(server.issuer).toBe(issuer);

  limitedAfterRestart = (await limited()).audit.reason;
  const replay = await withAuditLine(logFile, () => postAssertion(issuer, spent));
  replayAfterRestart = replay.result;
  replayReason = replay.audit.reason;
  freshJtiAfterRestart = await postAssertion(issuer, unspent);
  const second = await getTokenWithOpenidClient({
    issuer,
    clientId: CLIENT_ID,
    privateKey: key.privateKey,
    kid: key.kid,
    scope: SCOPE,
  });
  tokenAfterRestart = second.access_token;
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await stopAllDevServers();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("after a signing-key rotation and a restart on the same state", () => {
  it("still refuses a client over its rate limit: the bucket is stored, not held in memory", () => {
    // --rate-limit 3/3600: three tokens, then 429, and still 429 once the server has restarted.
    expect(limitedBeforeRestart).toEqual(["200", "200", "200", "rate_limited"]);
    expect(limitedAfterRestart).toBe("rate_limited");
  });

  it("still refuses a jti spent before the restart with invalid_client", () => {
    expect(replayAfterRestart).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect(replayReason).toBe("replayed");
    // The same client, key and lifetime with an unspent jti is accepted: the refusal is the replay guard's.
    expect(freshJtiAfterRestart.status).toBe(200);
  });

  it("still serves a client registered before the restart", async () => {
    const { payload } = await verifyAccessToken(issuer, tokenAfterRestart, issuer);
    expect(payload).toMatchObject({ sub: CLIENT_ID, client_id: CLIENT_ID, scope: SCOPE });
  });

  it("signs new tokens with the new key and keeps verifying tokens signed before the rotation", async () => {
    const after = await verifyAccessToken(issuer, tokenAfterRestart, issuer);
    expect(after.protectedHeader.kid).toBe(activeKidInEnvFile);
    expect(after.protectedHeader.kid).not.toBe(kidBeforeRestart);

    const before = await verifyAccessToken(issuer, tokenBeforeRestart, issuer);
    expect(before.protectedHeader.kid).toBe(kidBeforeRestart);
    expect(before.payload.sub).toBe(CLIENT_ID);
  });
});
