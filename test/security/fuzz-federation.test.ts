// Fuzzing federated token requests (seeded by FUZZ_SEED, as the other fuzz suites): validly signed external tokens
// with random claims against one GitHub-shaped trust get a token exactly when an oracle written here from
// docs/federation.md says they should (issuer and subject exact, this server as the only audience, exp ahead, nbf
// passed, iat present, not in the future and within the default maximum age, a bounded jti, the owner pin), and
// every refusal is the fixed invalid_client of its reason, never a 5xx. Each token carries a fresh jti when it has one.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { FEDERATION } from "../../src/protocol/federation";
import { issuerServer } from "../federation/fake-issuers";
import { auditOf } from "../worker/audit-capture";
import { federatedClient, federatedRequest } from "../worker/federation/support";
import { ISSUER, nowSeconds } from "../worker/support";

const SEED = (env as { FUZZ_SEED?: string }).FUZZ_SEED
  ? Number((env as { FUZZ_SEED?: string }).FUZZ_SEED)
  : Date.now() % 2 ** 31;
const SKEW = parseConfig(env).clockSkew;
/** Far from every boundary, so the seconds a run takes never flip a verdict. */
const MARGIN = 5;

const UNSET = Symbol("unset");
type Maybe<T> = T | typeof UNSET;
/** The valid value four times in five, else one of the others or the claim left out. */
function pick<T>(valid: T, ...others: T[]): fc.Arbitrary<Maybe<T>> {
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant<Maybe<T>>(valid) },
    { weight: 4, arbitrary: fc.constantFrom<Maybe<T>>(...others, UNSET) },
  );
}

/** Offsets from now, away from the edges the oracle draws (skew, max age). */
const PAST = [-100_000, -FEDERATION.defaultMaxAgeSeconds - SKEW - MARGIN, -300, -1 - SKEW - MARGIN];
const FUTURE = [120, SKEW + MARGIN + 1, 100_000];

interface Draw {
  iss: Maybe<string>;
  sub: Maybe<string>;
  aud: Maybe<unknown>;
  exp: Maybe<number>;
  nbf: Maybe<number>;
  iat: Maybe<number>;
  jti: Maybe<unknown>;
  owner: Maybe<unknown>;
}

describe("fuzz: federated token requests", { timeout: 120_000 }, () => {
  it("validly signed random external claims get a token exactly when the oracle says so", async () => {
    const client = await federatedClient("github");
    const trust = client.record.federation![0]!;
    const draw = fc.record<Draw>({
      iss: pick(trust.issuer, `${trust.issuer}/`, "https://token.actions.githubusercontent.com"),
      sub: pick(trust.subject, `${trust.subject}:x`, trust.subject.toUpperCase()),
      aud: pick<unknown>(ISSUER, [ISSUER], [ISSUER, "https://x.example"], `${ISSUER}/`, "", 7, []),
      exp: pick(300, 0, ...PAST, ...FUTURE),
      nbf: pick(0, ...PAST, ...FUTURE),
      iat: pick(0, ...PAST, ...FUTURE),
      jti: pick<unknown>("fresh", "", 5, "j".repeat(300)),
      owner: pick<unknown>(trust.claims!.repository_owner_id, "1", 65432),
    });
    const verdicts = { issued: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(draw, async (d) => {
        vi.spyOn(globalThis, "fetch").mockImplementation(issuerServer([client.issuer]).fetcher);
        const now = nowSeconds();
        const at = (v: Maybe<number>) => (v === UNSET ? UNSET : now + v);
        const claims: Record<string, unknown> = {};
        const set = (name: string, value: Maybe<unknown>) => {
          claims[name] = value === UNSET ? undefined : value;
        };
        set("iss", d.iss);
        set("sub", d.sub);
        set("aud", d.aud);
        set("exp", at(d.exp));
        set("nbf", at(d.nbf));
        set("iat", at(d.iat));
        set("jti", d.jti === "fresh" ? crypto.randomUUID() : d.jti);
        set("repository_owner_id", d.owner);
        const token = await client.issuer.token(ISSUER, { claims });

        const exp = at(d.exp);
        const nbf = at(d.nbf);
        const iat = at(d.iat);
        const jti = claims.jti;
        const valid =
          d.iss === trust.issuer &&
          d.sub === trust.subject &&
          (d.aud === ISSUER || (Array.isArray(d.aud) && d.aud.length === 1 && d.aud[0] === ISSUER)) &&
          exp !== UNSET &&
          // Accepted while now - skew < exp, but an access token needs a second left to live.
          exp - now >= 1 &&
          (nbf === UNSET || nbf <= now + SKEW) &&
          iat !== UNSET &&
          iat <= now + SKEW &&
          now - iat <= FEDERATION.defaultMaxAgeSeconds + SKEW &&
          typeof jti === "string" &&
          jti.length > 0 &&
          jti.length <= 256 &&
          d.owner === trust.claims!.repository_owner_id;

        const response = await federatedRequest(token, client.clientId);
        const line = auditOf(response);
        if (valid) {
          expect({ status: response.status, reason: line.reason }).toEqual({ status: 200, reason: undefined });
          verdicts.issued += 1;
        } else {
          expect({ status: response.status, error: ((await response.json()) as { error: string }).error }).toEqual({
            status: 401,
            error: "invalid_client",
          });
          expect(line.reason).toMatch(/^[a-z_]+$/);
          verdicts.refused += 1;
        }
      }),
      { numRuns: 150, seed: SEED, endOnFailure: true },
    );
    console.info(`federation fuzz (seed ${SEED}): ${verdicts.issued} issued, ${verdicts.refused} refused`);
    // The generator must reach both sides of the oracle, or it proves nothing.
    expect(verdicts.issued).toBeGreaterThan(0);
    expect(verdicts.refused).toBeGreaterThan(verdicts.issued);
  });
});
