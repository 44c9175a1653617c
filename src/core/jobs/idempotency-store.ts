import type { NewJobRow } from './new-job-row.ts';

/** The request an Idempotency-Key was first used with, and the job it started. */
export interface HeldIdempotencyKey {
  requestHash: string;
  jobId: string;
  createdAt: Date;
}

/** A first use of a key: who used it, for which request, and the job it would start. */
export interface IdempotencyKeyUse {
  userId: string;
  key: string;
  requestHash: string;
  jobId: string;
  createdAt: Date;
}

/**
 * The idempotency_keys table, one engine per folder (`sqlite/`, `postgres/`). `claim` is one guarded
 * statement, so of any number of concurrent first uses of a key exactly one claims it.
 */
export interface IdempotencyStore {
  /**
   * Takes the key for `use` unless it is held by a use made at or after `expiredBefore`; an older one is
   * replaced. True when `use` holds the key now. With `job`, that job's row is written in the same atomic
   * step, only when the key was taken: whoever finds the key held finds its job too.
   */
  claim(use: IdempotencyKeyUse, expiredBefore: Date, job?: NewJobRow): Promise<boolean>;
  /** Who holds a user's key, if anyone. */
  find(userId: string, key: string): Promise<HeldIdempotencyKey | undefined>;
  /** Frees the key if `jobId` still holds it; true when it did. */
  release(userId: string, key: string, jobId: string): Promise<boolean>;
  /** Frees every key used before `cutoff`; answers how many. */
  forgetBefore(cutoff: Date): Promise<number>;
}
