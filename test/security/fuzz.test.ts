// Property tests (fast-check) through the real Worker, one generator per stage of a token request: random bodies
// (form parser), random JOSE headers (header decoder), random claims (claims), broken signatures (signature) and
// repeated assertions (replay), plus a positive control of valid requests. Each case is classified by the stage its
// audit line says it was decided at; the rates are printed and held to a floor, so a generator that stops reaching
// its stage fails the suite. The oracles are written here from the specifications, not imported from src/: a token
// exactly when the request is valid. Seeded: FUZZ_SEED=<n> replays a run, and a failure names its seed.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import worker from "../../src/index";
import type { Reason } from "../../src/protocol/errors";
import { wireErrorFor } from "../../src/protocol/wire-errors";
import { type AuditLine, audited, auditLog, auditOf } from "../worker/audit-capture";
import {
  buildAssertion,
  clientKey,
  ISSUER,
  JWT_BEARER,
  nowSeconds,
  registerClient,
  type TestClient,
  TOKEN_ENDPOINT,
  tokenForm,
} from "../worker/support";

const CONFIG = parseConfig(env);
const SEED = (env as { FUZZ_SEED?: string }).FUZZ_SEED
  ? Number((env as { FUZZ_SEED?: string }).FUZZ_SEED)
  : Date.now() % 2 ** 31;
const FUZZ_TIMEOUT_MS = 240_000;

/** The stages of a token request, in order; a case is "decided at" one of them, or issued. */
const STAGES = ["request", "decoder", "claims", "client", "signature", "grant", "replay", "issued"] as const;
type Stage = (typeof STAGES)[number];

const STAGE_OF_REASON: Record<string, Stage> = {};
for (const [stage, reasons] of Object.entries({
  request: [
    "unsupported_media_type",
    "body_too_large",
    "body_malformed",
    "too_many_fields",
    "duplicate_parameter",
    "grant_type_missing",
    "grant_type_unsupported",
    "multiple_auth_methods",
    "client_secret_not_accepted",
    "client_assertion_missing",
    "client_assertion_type_unsupported",
  ],
  decoder: [
    "assertion_too_large",
    "assertion_malformed",
    "assertion_encrypted",
    "header_invalid",
    "alg_not_allowed",
    "typ_not_allowed",
    "crit_not_supported",
    "header_key_material",
  ],
  claims: [
    "claims_invalid",
    "iss_sub_mismatch",
    "client_id_mismatch",
    "aud_invalid",
    "exp_missing",
    "expired",
    "not_yet_valid",
    "iat_in_future",
    "lifetime_too_long",
    "jti_missing",
  ],
  client: ["client_unknown", "client_disabled", "client_record_invalid"],
  signature: ["no_matching_key", "signature_invalid", "jwks_uri_unavailable"],
  grant: ["scope_malformed", "scope_not_allowed", "resource_invalid", "resource_not_allowed"],
  replay: ["replayed", "client_revoked", "rate_limited"],
})) {
  for (const reason of reasons) STAGE_OF_REASON[reason] = stage as Stage;
}

/** The stage an audit line says its request was decided at. Some reasons exist at two stages; the detail tells them apart. */
function stageOf(line: AuditLine): Stage {
  if (line.outcome === "issued") return "issued";
  if (line.reason === "claims_invalid" && line.detail === "claims set is not a strict JSON object") return "decoder";
  if (line.reason === "expired" && line.detail?.startsWith("assertion expired before")) return "replay";
  if (line.reason === "scope_malformed" && line.detail === undefined) return "request";
  const stage = line.reason === undefined ? undefined : STAGE_OF_REASON[line.reason];
  if (!stage) throw new Error(`no stage for reason ${line.reason}`);
  return stage;
}

/** Counts cases by the stage they were decided at, and prints and checks how far they got. */
class StageTally {
  readonly counts = new Map<Stage, number>(STAGES.map((stage) => [stage, 0]));
  total = 0;

  add(stage: Stage): void {
    this.counts.set(stage, this.counts.get(stage)! + 1);
    this.total += 1;
  }

  /** The share of cases that got at least as far as `stage`. */
  reached(stage: Stage): number {
    const from = STAGES.indexOf(stage);
    const count = STAGES.slice(from).reduce((sum, s) => sum + this.counts.get(s)!, 0);
    return count / this.total;
  }

  report(name: string): string {
    const decided = STAGES.map((s) => `${s} ${((100 * this.counts.get(s)!) / this.total).toFixed(0)}%`).join(", ");
    const reached = STAGES.slice(1)
      .map((s) => `${s} ${(100 * this.reached(s)).toFixed(0)}%`)
      .join(", ");
    return `fuzz ${name} (seed ${SEED}): ${this.total} cases; decided at ${decided}; reached ${reached}`;
  }
}

/**
 * Every refusal is a 4xx of RFC 6749 JSON holding exactly `error` and `error_description`, both the fixed strings of
 * the reason its audit line names: never a 5xx, never an echo of input, never the reason itself.
 */
async function expectWellFormedRefusal(response: Response) {
  const reason = auditOf(response).reason as Reason;
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
  const wire = wireErrorFor(reason);
  expect({ status: response.status, ...body }).toEqual({
    status: wire.status,
    error: wire.error,
    error_description: wire.description,
  });
}

/** Calls the Worker's fetch handler with the real bindings (thousands of exports.default.fetch calls from one test would pile up). */
function send(body: BodyInit, contentType = "application/x-www-form-urlencoded"): Promise<Response> {
  const request = new Request(TOKEN_ENDPOINT, { method: "POST", headers: { "Content-Type": contentType }, body });
  return audited(() => Promise.resolve(worker.fetch(request, env, createExecutionContext())));
}

const sendForm = (form: Record<string, string>) => send(new URLSearchParams(form).toString());

/** fc.assert with this run's seed; a failure rethrows the assertion that failed, with the seed and counterexample. */
async function check<T>(property: fc.IAsyncProperty<T>, numRuns: number, offset: number): Promise<void> {
  try {
    await fc.assert(property, { numRuns, seed: SEED + offset, endOnFailure: true });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const where = `fuzz seed ${SEED} (rerun: FUZZ_SEED=${SEED} npm run test:worker -- test/security/fuzz.test.ts)`;
    if (cause instanceof Error) {
      cause.message = `${cause.message}\n${where}\n${(err as Error).message.split("\n").slice(0, 3).join("\n")}`;
      throw cause;
    }
    throw err;
  }
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
const b64text = (text: string) => b64url(new TextEncoder().encode(text));

async function signCompact(client: TestClient, headerText: string, payloadText: string): Promise<string> {
  const input = `${b64text(headerText)}.${b64text(payloadText)}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    client.key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** The claims of a valid assertion for `client`, with a fresh jti. */
function validClaims(client: TestClient, now = nowSeconds()): Record<string, unknown> {
  return { iss: client.clientId, sub: client.clientId, aud: ISSUER, jti: crypto.randomUUID(), iat: now, exp: now + 60 };
}

/**
 * What the specifications say of a claims set at time `now`: valid or not (RFC 7523 section 3, RFC 10070, and this
 * server's documented bounds: CLOCK_SKEW, ASSERTION_MAX_LIFETIME, a jti of at most 256 characters).
 */
function claimsValidAt(claims: Record<string, unknown>, clientId: string, now: number): boolean {
  const { iss, sub, aud, exp, nbf, iat, jti } = claims;
  const date = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  const skew = CONFIG.clockSkew;
  const max = CONFIG.assertionMaxLifetime;
  // RFC 10070: the issuer as the sole audience value, a string or the only member of an array.
  const audienceIsIssuer = aud === ISSUER || (Array.isArray(aud) && aud.length === 1 && aud[0] === ISSUER);
  if (iss !== clientId || sub !== clientId || !audienceIsIssuer) return false;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) return false;
  if (!date(exp) || (nbf !== undefined && !date(nbf)) || (iat !== undefined && !date(iat))) return false;
  const e = exp as number;
  if (now - skew >= e) return false;
  if (nbf !== undefined && (nbf as number) > now + skew) return false;
  if (iat !== undefined && (iat as number) > now + skew) return false;
  if (e - now > max + skew) return false;
  if (iat !== undefined && e - (iat as number) > max) return false;
  return true;
}

describe("fuzz", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("positive control: varied valid requests from the fuzz client always get a token", async () => {
    const client = await registerClient({ clientId: `fuzz-control-${crypto.randomUUID()}` });
    const tally = new StageTally();
    const variant = fc.record({
      typ: fc.constantFrom(undefined, "JWT", "jwt", "application/jwt", "client-authentication+jwt"),
      kid: fc.boolean(),
      iat: fc.option(fc.integer({ min: -250, max: 20 }), { nil: undefined }),
      nbf: fc.option(fc.integer({ min: -250, max: 20 }), { nil: undefined }),
      lifetime: fc.integer({ min: 5, max: 40 }),
      scope: fc.constantFrom(undefined, "read", "write", "read write", "write read"),
      resource: fc.constantFrom(undefined, "https://api.example.test"),
      clientIdParam: fc.boolean(),
    });
    await check(
      fc.asyncProperty(variant, async (v) => {
        const now = nowSeconds();
        const claims: Record<string, unknown> = { ...validClaims(client, now), exp: now + v.lifetime };
        if (v.iat === undefined) delete claims.iat;
        else claims.iat = now + v.iat;
        if (v.nbf !== undefined) claims.nbf = now + v.nbf;
        const header: Record<string, unknown> = { alg: "ES256" };
        if (v.typ !== undefined) header.typ = v.typ;
        if (v.kid) header.kid = client.key.kid;
        const assertion = await signCompact(client, JSON.stringify(header), JSON.stringify(claims));
        const form: Record<string, string> = tokenForm(assertion) as Record<string, string>;
        if (v.scope !== undefined) form.scope = v.scope;
        if (v.resource !== undefined) form.resource = v.resource;
        if (v.clientIdParam) form.client_id = client.clientId;
        const response = await sendForm(form);
        const stage = stageOf(auditOf(response));
        tally.add(stage);
        expect({ status: response.status, stage }).toEqual({ status: 200, stage: "issued" });
      }),
      300,
      0,
    );
    console.info(tally.report("positive control"));
    expect(tally.reached("issued")).toBe(1);
  });

  it("random bodies reach the form parser and, with a valid prefix, the header decoder; always a well-formed 4xx", async () => {
    const tally = new StageTally();
    const FIELDS = [
      "grant_type",
      "client_assertion_type",
      "client_assertion",
      "client_id",
      "scope",
      "resource",
      "client_secret",
    ];
    const field = fc.tuple(
      fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })),
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.constantFrom("client_credentials", JWT_BEARER, "a.b.c", "%", "%zz", "\u0000"),
      ),
    );
    const validPrefix = { grant_type: "client_credentials", client_assertion_type: JWT_BEARER };
    const body = fc.oneof(
      fc
        .array(field, { maxLength: 12 })
        .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")),
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }),
      // A well-formed request whose assertion is random text: past the parser, into the decoder.
      fc
        .string({ maxLength: 200 })
        .map((assertion) => new URLSearchParams({ ...validPrefix, client_assertion: assertion || "x" }).toString()),
      fc
        .array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 5 })
        .map((parts) => new URLSearchParams({ ...validPrefix, client_assertion: parts.join(".") }).toString()),
    );
    await check(
      fc.asyncProperty(body, async (raw) => {
        const response = await send(raw);
        tally.add(stageOf(auditOf(response)));
        await expectWellFormedRefusal(response);
      }),
      2000,
      1,
    );
    console.info(tally.report("random bodies"));
    expect(tally.counts.get("request")! / tally.total).toBeGreaterThan(0.3);
    expect(tally.reached("decoder")).toBeGreaterThan(0.15);
    expect(tally.reached("issued")).toBe(0);
  });

  it("random JOSE headers over valid claims: a token exactly when the header is acceptable", async () => {
    const client = await registerClient({ clientId: `fuzz-headers-${crypto.randomUUID()}` });
    const tally = new StageTally();
    const FORBIDDEN = ["crit", "jwk", "jku", "x5u", "x5c", "enc", "zip", "b64"];
    /** Mostly acceptable values, so that a good share of headers passes the decoder and reaches the signature. */
    const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
      fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: bad });
    const header = fc.record({
      alg: mostly(fc.constant("ES256"), fc.constantFrom("ES384", "RS256", "EdDSA", "none", "HS256", "es256", 5)),
      typ: mostly(
        fc.constantFrom(undefined, "JWT", "jwt", "application/jwt", "client-authentication+jwt"),
        fc.constantFrom("at+jwt", "dpop+jwt", "", 1),
      ),
      kid: mostly(fc.constantFrom(undefined, "right"), fc.constantFrom("wrong", "", 42)),
      extra: mostly(fc.constantFrom("none", "cty", "x-custom"), fc.constantFrom(...FORBIDDEN)),
      duplicate: mostly(fc.constant(false), fc.constant(true)),
    });
    await check(
      fc.asyncProperty(header, async (h) => {
        const members: Record<string, unknown> = { alg: h.alg };
        if (h.typ !== undefined) members.typ = h.typ;
        if (h.kid !== undefined) members.kid = h.kid === "right" ? client.key.kid : h.kid;
        if (h.extra !== "none") members[h.extra] = h.extra === "crit" ? ["exp"] : h.extra === "b64" ? false : "x";
        let text = JSON.stringify(members);
        if (h.duplicate) text = text.replace(/^\{/, '{"alg":"none",');
        const acceptable =
          h.alg === "ES256" &&
          (h.typ === undefined ||
            ["JWT", "jwt", "application/jwt", "client-authentication+jwt"].includes(h.typ as string)) &&
          (h.kid === undefined || h.kid === "right") &&
          !FORBIDDEN.includes(h.extra) &&
          !h.duplicate;
        const assertion = await signCompact(client, text, JSON.stringify(validClaims(client)));
        const response = await sendForm(tokenForm(assertion) as Record<string, string>);
        const stage = stageOf(auditOf(response));
        tally.add(stage);
        if (acceptable) {
          expect({ status: response.status, stage }).toEqual({ status: 200, stage: "issued" });
        } else {
          expect(stage).not.toBe("issued");
          await expectWellFormedRefusal(response);
        }
      }),
      800,
      2,
    );
    console.info(tally.report("headers"));
    expect(tally.reached("claims")).toBeGreaterThan(0.25);
    expect(tally.reached("signature")).toBeGreaterThan(0.15);
    expect(tally.reached("issued")).toBeGreaterThan(0.05);
  });

  it("validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti", async () => {
    const client = await registerClient({ clientId: `fuzz-claims-${crypto.randomUUID()}` });
    const tally = new StageTally();
    const spent = new Set<string>();
    const now0 = nowSeconds();
    const ABSENT = Symbol("absent");
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    /** Mostly a plausible value, sometimes absent, sometimes anything at all. */
    const claim = <T>(plausible: fc.Arbitrary<T>) =>
      fc.oneof(
        { weight: 14, arbitrary: plausible },
        { weight: 1, arbitrary: fc.constant(ABSENT) },
        { weight: 1, arbitrary: value },
      );
    const time = (min: number, max: number) => claim(fc.integer({ min: now0 + min, max: now0 + max }));
    const claims = fc
      .record({
        iss: claim(fc.constant(client.clientId)),
        sub: claim(fc.constant(client.clientId)),
        aud: claim(
          fc.oneof(
            { weight: 6, arbitrary: fc.constant(ISSUER) },
            {
              weight: 1,
              arbitrary: fc.constantFrom([ISSUER], [ISSUER, ISSUER], [], `${ISSUER}/`, `${ISSUER}/token`),
            },
          ),
        ),
        exp: time(-60, 360),
        iat: time(-150, 40),
        nbf: time(-300, 40),
        jti: claim(
          fc.oneof(
            { weight: 6, arbitrary: fc.uuid() },
            { weight: 1, arbitrary: fc.constantFrom("", "j", "x".repeat(256), "x".repeat(257)) },
          ),
        ),
      })
      .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== ABSENT)) as Record<string, unknown>);
    await check(
      fc.asyncProperty(claims, async (c) => {
        const before = nowSeconds();
        const assertion = await signCompact(
          client,
          JSON.stringify({ alg: "ES256", kid: client.key.kid, typ: "JWT" }),
          JSON.stringify(c),
        );
        const response = await sendForm(tokenForm(assertion) as Record<string, string>);
        const after = nowSeconds();
        const stage = stageOf(auditOf(response));
        tally.add(stage);
        const validBefore = claimsValidAt(c, client.clientId, before);
        if (validBefore !== claimsValidAt(c, client.clientId, after + 1)) {
          // A time claim within a second of its bound: either answer is right, and it must still be well formed.
          if (response.status !== 200) await expectWellFormedRefusal(response);
          return;
        }
        const jti = c.jti as string;
        if (validBefore && !spent.has(jti)) {
          expect({ status: response.status, stage }).toEqual({ status: 200, stage: "issued" });
          spent.add(jti);
        } else if (validBefore) {
          expect({ status: response.status, reason: auditOf(response).reason }).toEqual({
            status: 401,
            reason: "replayed",
          });
        } else {
          // Signed by the client's own key: an invalid claims set is refused by the claims checks themselves, not
          // later (one that names another client as iss = sub fails at the registry instead).
          const namesUs = c.iss === client.clientId && c.sub === client.clientId;
          expect(namesUs ? stage === "claims" : stage === "claims" || stage === "client").toBe(true);
          await expectWellFormedRefusal(response);
        }
      }),
      1000,
      3,
    );
    console.info(tally.report("claims"));
    expect(tally.counts.get("claims")! / tally.total).toBeGreaterThan(0.3);
    expect(tally.reached("issued")).toBeGreaterThan(0.07);
  });

  it("broken signatures over valid headers and claims reach the signature check and never get a token", async () => {
    const client = await registerClient({ clientId: `fuzz-signatures-${crypto.randomUUID()}` });
    const stranger = await clientKey("ES256", 77);
    const tally = new StageTally();
    const breakage = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), byte: fc.nat(63), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat(63) }),
      fc.record({ kind: fc.constant("zero" as const) }),
      fc.record({ kind: fc.constant("stranger" as const) }),
      fc.record({ kind: fc.constant("swap-halves" as const) }),
      fc.record({ kind: fc.constant("random" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 80 }) }),
    );
    await check(
      fc.asyncProperty(breakage, async (b) => {
        const good = await buildAssertion(client);
        const [h, p, s] = good.split(".") as [string, string, string];
        const sig = Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
        let broken: Uint8Array;
        if (b.kind === "flip") {
          broken = sig.slice();
          broken[b.byte] = broken[b.byte]! ^ (1 << b.bit);
        } else if (b.kind === "truncate") broken = sig.slice(0, b.keep);
        else if (b.kind === "zero") broken = new Uint8Array(64);
        else if (b.kind === "swap-halves") broken = Uint8Array.from([...sig.slice(32), ...sig.slice(0, 32)]);
        else if (b.kind === "random") broken = b.bytes;
        else {
          const other = await buildAssertion(client, { signWith: { ...stranger, kid: client.key.kid } });
          broken = Uint8Array.from(atob(other.split(".")[2]!.replace(/-/g, "+").replace(/_/g, "/")), (ch) =>
            ch.charCodeAt(0),
          );
        }
        const compact = `${h}.${p}.${b64url(broken)}`;
        const response = await sendForm(tokenForm(compact) as Record<string, string>);
        const stage = stageOf(auditOf(response));
        tally.add(stage);
        expect(stage).not.toBe("issued");
        await expectWellFormedRefusal(response);
      }),
      600,
      4,
    );
    console.info(tally.report("signatures"));
    expect(tally.reached("signature")).toBeGreaterThan(0.9);
    expect(tally.reached("issued")).toBe(0);
  });

  it("character-level mutations of a valid assertion are refused, and some reach the signature check", async () => {
    const client = await registerClient({ clientId: `fuzz-mutations-${crypto.randomUUID()}` });
    const tally = new StageTally();
    const original = await buildAssertion(client, { claims: { exp: nowSeconds() + 280 } });
    const [h, p] = original.split(".") as [string, string, string];
    const signatureStart = h.length + p.length + 2;
    // Anywhere, or (three times as often) in the signature segment, which the other segments' checks come before.
    const at = fc.oneof(
      { weight: 1, arbitrary: fc.nat(original.length - 1) },
      { weight: 3, arbitrary: fc.integer({ min: signatureStart, max: original.length - 1 }) },
    );
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("replace" as const), at, ch: fc.constantFrom(..."ABCabc019-_.=+/ \u00e9") }),
      fc.record({ kind: fc.constant("delete" as const), at, n: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant("insert" as const), at, text: fc.string({ maxLength: 8 }) }),
      fc.record({
        kind: fc.constant("segments" as const),
        order: fc.shuffledSubarray([0, 1, 2], { minLength: 1 }),
        dup: fc.boolean(),
      }),
    );
    await check(
      fc.asyncProperty(mutation, async (m) => {
        let mutated: string;
        if (m.kind === "replace") mutated = original.slice(0, m.at) + m.ch + original.slice(m.at + 1);
        else if (m.kind === "delete") mutated = original.slice(0, m.at) + original.slice(m.at + m.n);
        else if (m.kind === "insert") mutated = original.slice(0, m.at) + m.text + original.slice(m.at);
        else {
          const parts = original.split(".");
          const picked = m.order.map((i) => parts[i]!);
          mutated = (m.dup ? [...picked, ...picked] : picked).join(".");
        }
        fc.pre(mutated !== original);
        const response = await sendForm(tokenForm(mutated) as Record<string, string>);
        const stage = stageOf(auditOf(response));
        tally.add(stage);
        expect(stage).not.toBe("issued");
        await expectWellFormedRefusal(response);
      }),
      1500,
      5,
    );
    console.info(tally.report("mutations"));
    expect(tally.reached("decoder")).toBe(1);
    expect(tally.reached("signature")).toBeGreaterThan(0.2);
  });

  it("a valid assertion sent several times, one after another or at once, gets exactly one token", async () => {
    const client = await registerClient({ clientId: `fuzz-replay-${crypto.randomUUID()}` });
    const tally = new StageTally();
    const plan = fc.record({ copies: fc.integer({ min: 2, max: 5 }), concurrent: fc.boolean() });
    await check(
      fc.asyncProperty(plan, async ({ copies, concurrent }) => {
        const assertion = await buildAssertion(client);
        const mark = auditLog().length;
        const form = tokenForm(assertion) as Record<string, string>;
        const responses = concurrent
          ? await Promise.all(Array.from({ length: copies }, () => sendForm(form)))
          : await (async () => {
              const out: Response[] = [];
              for (let i = 0; i < copies; i++) out.push(await sendForm(form));
              return out;
            })();
        const stages = auditLog().slice(mark).map(stageOf);
        for (const stage of stages) tally.add(stage);
        expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
        expect(stages.sort()).toEqual(["issued", ...Array(copies - 1).fill("replay")]);
        expect(
          auditLog()
            .slice(mark)
            .filter((l) => l.reason !== undefined)
            .every((l) => l.reason === "replayed"),
        ).toBe(true);
      }),
      150,
      6,
    );
    console.info(tally.report("replay"));
    expect(tally.reached("replay")).toBe(1);
  });
});
