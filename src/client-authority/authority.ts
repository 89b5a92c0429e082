// ClientAuthority: a SQLite-backed Durable Object, one per client_id, the single authority for everything about the
// client that changes: its record (keys, scopes, audiences, flags, status, retired kids) and the record's version,
// its spent jtis and its rate-limit bucket. KV holds a replica the object writes after each committed change, never
// the other way round (a record it has never seen is adopted from KV on first use). `consume` decides a token request
// in one synchronous section of the object's single thread, so no two requests can both spend a jti. It never
// validates assertions: callers spend a jti only after every other check has passed.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { applyChange, ChangeRefused } from "./changes";
import { ClientStateStore, mayReadopt, type StoredState } from "./client-state";
import type {
  Actor,
  ChangeResult,
  ClientChange,
  ClientView,
  ConsumeOutcome,
  ConsumeRequest,
  OperatorCheck,
  OperatorVerdict,
  RevokeAllResult,
  RevokeTokenRequest,
  TokenStatus,
  TokenStatusQuery,
} from "./contract";
import { foldLegacyRevocations, ReplicaWriter, readReplica } from "./kv-replica";
import { rateLimitOf, takeToken } from "./rate-limit";
import { ReplayStore } from "./replay-store";
import { TokenRevocations } from "./token-revocations";
import { retiredKidsOf, stillAdmin, tokenStatusOf } from "./token-status";

/** Milliseconds added to the earliest expiry before the purge alarm fires, so one alarm sweeps a batch of rows. */
const PURGE_BATCH_DELAY_MS = 5_000;
/** A KV write that failed is tried again this long after, from the alarm. */
const REPLICATION_RETRY_MS = 10_000;

export class ClientAuthority extends DurableObject<Env> {
  readonly #state: ClientStateStore;
  readonly #replay: ReplayStore;
  readonly #proofs: ReplayStore;
  readonly #revocations: TokenRevocations;
  /** Time of the scheduled alarm in ms, or null when none is known to be set. */
  #alarmAt: number | null = null;
  readonly #replica: ReplicaWriter;
  #adoption: Promise<StoredState | null> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#state = new ClientStateStore(ctx.storage.sql);
    this.#replay = new ReplayStore(ctx.storage.sql);
    this.#proofs = new ReplayStore(ctx.storage.sql, "spent_dpop_jti");
    this.#revocations = new TokenRevocations(ctx.storage.sql);
    this.#replica = new ReplicaWriter(env.CLIENTS, this.#state, () =>
      this.#scheduleAlarm(Date.now() + REPLICATION_RETRY_MS),
    );
  }

  /**
   * Spends the request's jti, in this order: the record is the current one (else "stale", with the current record,
   * for the Worker to check again), the client active, the key not retired, a DPoP proof sent when the record binds the
   * client to DPoP, the retention not already past by this
   * object's clock, the jti not spent, the same two for the DPoP proof's jti when the request has one, the rate limit
   * (whose bucket lives in SQLite, so it survives eviction and deploys), then the spend of both. Replays are refused before the rate limit, so whoever holds a spent assertion cannot
   * drain the client's budget; refusals write nothing, so a rate-limited jti may be retried.
   */
  async consume(request: ConsumeRequest): Promise<ConsumeOutcome> {
    await this.#stateFor(request.clientId);
    // From here to the spend: synchronous, so the decision is atomic.
    const state = this.#state.read();
    const now = Date.now();
    if (state === null || state.record === null) return { outcome: "unknown" };
    if (state.version !== request.recordVersion) {
      this.ctx.waitUntil(this.#replica.replicate());
      return { outcome: "stale", record: state.record };
    }
    const record = state.record;
    if (record.status !== "active") return { outcome: "disabled" };
    if (retiredKidsOf(record).includes(request.keyId)) return { outcome: "key_retired" };
    const proof = request.proof;
    const purpose = request.purpose ?? "token";
    if (!proof && purpose === "token" && record.dpop_bound_access_tokens === true) return { outcome: "proof_required" };
    if (purpose === "introspection" && record.introspection !== true) return { outcome: "not_permitted" };
    if (request.retainUntilMs <= now) return { outcome: "expired" };
    const spends = request.reusable !== true;
    if (spends && this.#replay.isSpent(request.jti, now)) return { outcome: "replayed" };
    if (proof && proof.retainUntilMs <= now) return { outcome: "proof_expired" };
    if (proof && this.#proofs.isSpent(proof.jti, now)) return { outcome: "proof_replayed" };
    const limit = rateLimitOf(record);
    if (limit) {
      const decision = takeToken(this.#state.readBucket(), limit, now);
      if (!decision.allowed) return { outcome: "rate_limited", retryAfterSeconds: decision.retryAfterSeconds };
      this.#state.writeBucket(decision.bucket);
    }
    if (spends && !this.#replay.spend(request.jti, request.retainUntilMs, now)) return { outcome: "replayed" };
    if (proof && !this.#proofs.spend(proof.jti, proof.retainUntilMs, now)) return { outcome: "proof_replayed" };
    const retainUntil = Math.max(request.retainUntilMs, proof?.retainUntilMs ?? 0);
    await this.#scheduleAlarm(retainUntil + PURGE_BATCH_DELAY_MS);
    return { outcome: "fresh" };
  }

  /** The client's current record and version, or null when it has none (never registered, or removed). */
  async read(clientId: string): Promise<ClientView | null> {
    await this.#stateFor(clientId);
    const state = this.#state.read();
    return state && { record: state.record, version: state.version };
  }

  /**
   * Applies one management change, in the order changes arrive: refused with version_mismatch when `ifVersion` is
   * given and is not the current version, else validated and committed as the next version, then written to KV.
   */
  async change(
    clientId: string,
    change: ClientChange,
    ifVersion: number | undefined,
    actor: Actor,
  ): Promise<ChangeResult> {
    await this.#stateFor(clientId);
    const state = this.#state.read();
    const versionBefore = state?.version ?? 0;
    if (ifVersion !== undefined && ifVersion !== versionBefore) {
      return {
        ok: false,
        refusal: "version_mismatch",
        detail: `the record is at version ${versionBefore}`,
        version: versionBefore,
      };
    }
    let next: Record<string, unknown> | null;
    try {
      next = applyChange(state?.record ?? null, change, clientId);
    } catch (err) {
      if (!(err instanceof ChangeRefused)) throw err;
      return { ok: false, refusal: err.refusal, detail: err.message, version: versionBefore };
    }
    const version = this.#state.write(clientId, next, Date.now(), actor.clientId);
    // A removed client's tokens die with it, and stay dead if the same client_id is registered again.
    if (change.kind === "delete") this.#revocations.revokeAllBefore(Date.now());
    // A removed client's budget goes with it; one created again starts a new bucket.
    if (change.kind === "delete" || change.kind === "create") this.#state.clearBucket();
    const replicated = await this.#replica.replicate();
    return { ok: true, record: this.#state.read()!.record, version, versionBefore, replicated };
  }

  /**
   * Whether an access token issued to this client is still active (token-status.ts): the client active, the key that
   * obtained it neither retired nor removed, issued after the cut-off, not revoked. Reads only.
   */
  async tokenStatus(query: TokenStatusQuery): Promise<TokenStatus> {
    await this.#stateFor(query.clientId);
    const revocation = {
      cutoff: this.#revocations.cutoff(),
      revoked: this.#revocations.isRevoked(query.jti, Date.now()),
    };
    return tokenStatusOf(this.#state.read()?.record ?? null, query, revocation);
  }

  /** RFC 7009: revokes one of this client's tokens until its expiry (the Worker checked that it is this client's). */
  async revokeToken(request: RevokeTokenRequest): Promise<void> {
    const now = Date.now();
    if (request.retainUntilMs <= now) return;
    this.#revocations.revoke(request.jti, request.retainUntilMs, now);
    await this.#scheduleAlarm(request.retainUntilMs + PURGE_BATCH_DELAY_MS);
  }

  /** Every token issued to this client until now is inactive from this call on, wherever it is presented. */
  async revokeAllTokens(clientId: string): Promise<RevokeAllResult> {
    await this.#stateFor(clientId);
    if (this.#state.read()?.record == null) return { ok: false, refusal: "unknown" };
    return { ok: true, revokedBefore: this.#revocations.revokeAllBefore(Date.now()) };
  }

  /**
   * Whether an admin token obtained with key `keyId` may still be used: it is active by tokenStatus (the operator
   * active, the key registered and not retired, the token neither revoked nor before the cut-off), and the operator's
   * record still grants the admin scope for the admin audience.
   */
  async authorizeOperator(check: OperatorCheck): Promise<OperatorVerdict> {
    const status = await this.tokenStatus({
      clientId: check.clientId,
      jti: check.tokenJti,
      issuedAt: check.issuedAt,
      keyId: check.keyId,
    });
    if (!status.active) return { ok: false, detail: `the operator's token is inactive: ${status.reason}` };
    return stillAdmin(this.#state.read()!.record!, check);
  }

  /** Deletes spent jtis whose retention has passed, retries a KV write that failed, and schedules what is left. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const now = Date.now();
    const nexts = [this.#replay.purge(now), this.#proofs.purge(now), this.#revocations.purge(now)].filter(
      (at): at is number => at !== null,
    );
    if (nexts.length > 0) await this.#scheduleAlarm(Math.min(...nexts) + PURGE_BATCH_DELAY_MS);
    await this.#replica.replicate();
  }

  /**
   * This object's state, adopting the client's KV record the first time the object is asked about it, or after the
   * client was removed when the bootstrap path has written it to KV again.
   */
  async #stateFor(clientId: string): Promise<StoredState | null> {
    const state = this.#state.read();
    return state !== null && !mayReadopt(state, Date.now()) ? state : this.#adopt(clientId);
  }

  /**
   * Adopts the KV record of a client this object does not hold: one it has never held (registered before the
   * authority existed, or by the CLI's bootstrap path), folding in any kill switch an older version of this object
   * kept; or, after a removal, a record without a version (only the bootstrap path writes those), as the next version.
   * A record with a version is this object's own replica and never adopted over a removal. Concurrent callers share one
   * adoption, and its writes are synchronous, so a record is adopted once. A missing or invalid KV record is not
   * adopted; a KV failure rejects (and the next call tries again).
   */
  #adopt(clientId: string): Promise<StoredState | null> {
    if (this.#adoption) return this.#adoption;
    const adoption = (async () => {
      const replica = await readReplica(this.env.CLIENTS, clientId);
      const already = this.#state.read();
      if (replica === null) return already;
      const replicaVersion = typeof replica.version === "number" ? replica.version : 0;
      if (already !== null && (!mayReadopt(already, Date.now()) || replicaVersion !== 0)) return already;
      const { record, changed } = foldLegacyRevocations(replica, this.#state.takeLegacyRevocations());
      // After a removal: the version after it. Otherwise the replica's own version when it has one and nothing was
      // folded in, else a new version, which KV does not hold yet (a record from the bootstrap path has none).
      const version =
        already !== null ? already.version + 1 : changed || replicaVersion === 0 ? replicaVersion + 1 : replicaVersion;
      const replicated = already !== null ? already.replicatedVersion : replicaVersion;
      const adopted = this.#state.adopt(clientId, record, version, replicated, Date.now());
      if (adopted.replicatedVersion < adopted.version) this.ctx.waitUntil(this.#replica.replicate());
      return adopted;
    })();
    this.#adoption = adoption;
    const done = () => {
      if (this.#adoption === adoption) this.#adoption = null;
    };
    adoption.then(done, done);
    return adoption;
  }

  async #scheduleAlarm(at: number): Promise<void> {
    if (this.#alarmAt === null) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
