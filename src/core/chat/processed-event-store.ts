/**
 * The rows behind `ProcessedEvents`, one engine per folder (`sqlite/`, `postgres/`). `claim` is one guarded
 * insert, so of any number of concurrent claims of a key, on any number of processes, exactly one wins.
 */
export interface ProcessedEventStore {
  /** Records `key` as handled at `at`; true when this call recorded it, false when it was already there. */
  claim(key: string, at: Date): Promise<boolean>;
  /** Removes every key recorded before `cutoff`; answers how many. */
  forgetBefore(cutoff: Date): Promise<number>;
}
