/**
 * The rows behind `PersonalSettingsStore`: one JSON document per chat identity, one engine per folder
 * (`sqlite/`, `postgres/`). The document's meaning stays in core; the store only keeps it, and `change`
 * reads and replaces it as one atomic unit, so two changes at once never lose either.
 */
export interface SettingsStore {
  /** The identity's document as stored; undefined when they never chose anything. */
  read(identity: string): Promise<string | undefined>;
  /**
   * Replaces the identity's document with `next(stored)`, with no other change to it in between, stamped
   * `at`; answers what was written. `next` must be a pure function of its argument: it may run again.
   */
  change(identity: string, next: (stored: string | undefined) => string, at: Date): Promise<string>;
  /** Forgets the identity's document. */
  remove(identity: string): Promise<void>;
}
