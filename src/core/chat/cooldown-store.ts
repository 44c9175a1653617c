/** A start recorded, or the start still in the way. */
export type CooldownStart = { started: true } | { started: false; runningSinceMs: number | undefined };

/**
 * The rows behind `ChatCooldowns`: when each chat identity last started a generation, one engine per folder
 * (`sqlite/`, `postgres/`). `start` is one guarded upsert, so of concurrent starts for one identity, on any
 * number of processes, only one lands inside a window.
 */
export interface CooldownStore {
  /**
   * Records `startedMs` as the identity's last start unless the start on record is later than
   * `replacesUpToMs`; when it is, answers that start (undefined if it was given back meanwhile).
   */
  start(identity: string, startedMs: number, replacesUpToMs: number): Promise<CooldownStart>;
  /** Removes the identity's start, only if it is still `startedMs`. */
  giveBack(identity: string, startedMs: number): Promise<void>;
}
