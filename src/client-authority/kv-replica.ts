// The client authority's side of the KV replica: reading a record to adopt (a client it has never held), and writing
// its own record back after each change, one write at a time and always the latest version, so KV converges on what
// the authority holds and never on an older write that finished late. KV I/O only; the state is the caller's.
import { LIMITS } from "../protocol/constants";
import { clientKey, RecordError, validateClientRecord } from "../registry/record";
import type { ClientStateStore } from "./client-state";

/** Most KV writes one replication makes in a row before leaving the rest to the alarm (changes keep arriving). */
const REPLICATION_ROUNDS = 5;

/** The client's KV record as raw JSON when it is one the registry accepts, else null (nothing to adopt). */
export async function readReplica(kv: KVNamespace, clientId: string): Promise<Record<string, unknown> | null> {
  const text = await kv.get(clientKey(clientId), "text");
  if (text === null || text.length > LIMITS.maxClientRecordBytes) return null;
  try {
    const record = JSON.parse(text) as Record<string, unknown>;
    validateClientRecord(record, clientId);
    return record;
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof RecordError) return null;
    throw err;
  }
}

/** The kill switch an older version of the object kept, folded into the record: a disabled client, retired kids. */
export function foldLegacyRevocations(
  record: Record<string, unknown>,
  legacy: { client: boolean; kids: string[] },
): { record: Record<string, unknown>; changed: boolean } {
  let next = record;
  if (legacy.client && next.status !== "disabled") next = { ...next, status: "disabled" };
  const kids = Array.isArray(next.retired_kids) ? (next.retired_kids as string[]) : [];
  const added = legacy.kids.filter((kid) => !kids.includes(kid));
  if (added.length > 0) next = { ...next, retired_kids: [...kids, ...added] };
  return { record: next, changed: next !== record };
}

export class ReplicaWriter {
  readonly #kv: KVNamespace;
  readonly #state: ClientStateStore;
  readonly #retryLater: () => Promise<void>;
  #running: Promise<boolean> | null = null;

  /** `retryLater` schedules another attempt (the object's alarm) when KV refused a write. */
  constructor(kv: KVNamespace, state: ClientStateStore, retryLater: () => Promise<void>) {
    this.#kv = kv;
    this.#state = state;
    this.#retryLater = retryLater;
  }

  /** Brings KV up to the stored version; joins the replication already running. False when KV refused. */
  replicate(): Promise<boolean> {
    if (!this.#running) {
      const run = this.#run();
      this.#running = run;
      const done = () => {
        if (this.#running === run) this.#running = null;
      };
      run.then(done, done);
    }
    return this.#running;
  }

  async #run(): Promise<boolean> {
    try {
      for (let round = 0; round < REPLICATION_ROUNDS; round++) {
        const state = this.#state.read();
        if (state === null || state.replicatedVersion >= state.version) return true;
        const key = clientKey(state.clientId);
        if (state.record === null) await this.#kv.delete(key);
        else {
          const metadata = { status: state.record.status, version: state.version };
          await this.#kv.put(key, JSON.stringify(state.record), { metadata });
        }
        this.#state.markReplicated(state.version);
      }
    } catch {
      // KV is down or refused: the authority holds the change; the replica follows from the alarm.
    }
    await this.#retryLater();
    return false;
  }
}
