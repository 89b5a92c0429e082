// The public entry of the resource-server verifier (package export `edge-token-service/resource-server`): createVerifier
// and its options (online mode's included), responseFor, the replay store interface and its in-memory default, the
// error type and its reasons. Exports only.
export type { Reason } from "../protocol/errors";
export { TokenServiceError } from "../protocol/errors";
export { responseFor } from "./challenge";
export type { IntrospectionOptions, VerifierOptions } from "./options";
export {
  MemoryProofReplayStore,
  type MemoryProofReplayStoreOptions,
  type ProofReplayStore,
} from "./proof-replay";
export { createVerifier, type VerifiedAccessToken, type Verifier, type VerifyOptions } from "./verifier";
