// What the `clients` commands need of wherever clients live, and the choice between the two places: the service's
// management API (the authoritative record, through the client's authority) or the KV registry through wrangler
// (the bootstrap path, for clients no authority holds yet). Types and selection only; the stores do the I/O.
import type { ClientChange } from "../../../src/client-authority/contract";
import type { ClientRecord } from "../../../src/registry/record";
import { ADMIN_TARGET_HELP, ADMIN_TARGET_OPTIONS, adminTargetFrom } from "../admin-target";
import type { OptionSpec, OptionValues } from "../command-line";
import { REGISTRY_TARGET_HELP, REGISTRY_TARGET_OPTIONS, registryTargetFrom } from "../registry-target";
import { ApiClientStore } from "./api-client-store";
import { KvClientStore } from "./kv-client-store";

/** A stored record: its members as stored (unknown ones kept), and the validated view or why it is invalid. */
export interface StoredClient {
  clientId: string;
  stored: Record<string, unknown> | null;
  record: ClientRecord | null;
  problem: string | null;
}

/** One line of `clients list`. */
export interface ListedClient {
  clientId: string;
  status: string | null;
  version: number | null;
  /** The full record, when the store reads it anyway (the KV registry does). */
  client?: StoredClient;
}

export interface ClientStore {
  /** Where the store is, for messages: "the local registry", "the management API at https://...". */
  readonly where: string;
  /** Whether what it reads is the authoritative record (the management API) or KV's replica. */
  readonly authoritative: boolean;
  load(clientId: string): Promise<StoredClient | null>;
  list(): Promise<ListedClient[]>;
  /** Applies one change; resolves with the record after it (null once removed). Throws CliError. */
  apply(clientId: string, change: ClientChange): Promise<Record<string, unknown> | null>;
}

export const CLIENT_STORE_OPTIONS: OptionSpec = { ...REGISTRY_TARGET_OPTIONS, ...ADMIN_TARGET_OPTIONS };

export const CLIENT_STORE_HELP = `${ADMIN_TARGET_HELP}

${REGISTRY_TARGET_HELP}
  The registry is the bootstrap path: it registers clients no authority holds yet (the first operator, say). A
  record an authority holds (it has a version) is changed through the management API only.`;

/** The store the command's flags and the environment select. */
export async function clientStoreFrom(commandName: string, values: OptionValues): Promise<ClientStore> {
  const admin = adminTargetFrom(commandName, values);
  if (admin) return ApiClientStore.open(admin);
  return new KvClientStore(registryTargetFrom(commandName, values));
}
