import { createHash } from 'node:crypto';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { NewJobRow } from './new-job-row.ts';

/** How long a key is remembered (the `Idempotency-Key` convention: a day). */
export const idempotencyWindowMs = 24 * 60 * 60 * 1000;

/** What a request with an `Idempotency-Key` should do. */
export type IdempotencyClaim =
  | { kind: 'new' }
  /** The same key and body were seen: answer with that job's result (once it is one to replay), charged once. */
  | { kind: 'replay'; jobId: string }
  /** The same key with another body: a client bug, refused with 422. */
  | { kind: 'conflict' };

/**
 * Whether an outcome is one to replay for a repeated key: what the caller could have received and acted on
 * (a success, or a refusal decided before any work: 4xx). A 5xx (cancelled, failed on our side) is not:
 * the retry the key exists for must run again.
 */
export function isReplayableStatus(httpStatus: number | undefined): boolean {
  return httpStatus !== undefined && httpStatus < 500;
}

/** A stable hash of a request body: the same JSON in another key order is the same request. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** REST idempotency keys per user over any `IdempotencyStore` engine, shared by every process on it. */
export class IdempotencyKeys {
  readonly #store: IdempotencyStore;
  readonly #now: () => Date;

  constructor(store: IdempotencyStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * Claims `key` for a job, or says which earlier job it belongs to. Atomic across processes: of any
   * number of concurrent first uses, one claims it and every other replays that one's job. A key past the
   * window is claimed afresh. Given the job's row rather than its id, the row is written with the key in
   * one step, so a request that finds the key held always finds its job.
   */
  async claim(userId: string, key: string, hash: string, job: string | NewJobRow): Promise<IdempotencyClaim> {
    const now = this.#now();
    const expiredBefore = new Date(now.getTime() - idempotencyWindowMs);
    const [jobId, row] = typeof job === 'string' ? [job, undefined] : [job.id, job];
    const use = { userId, key, requestHash: hash, jobId, createdAt: now };
    for (;;) {
      if (await this.#store.claim(use, expiredBefore, row)) return { kind: 'new' };
      const held = await this.#store.find(userId, key);
      // Released between the two statements (its job ended unheard): claim it again.
      if (!held) continue;
      return held.requestHash === hash ? { kind: 'replay', jobId: held.jobId } : { kind: 'conflict' };
    }
  }

  /**
   * Frees `key` if it still belongs to `jobId`: that job ended in a way its caller never heard (cancelled
   * when the client hung up, a failure on our side, never recorded on a full disk), so a retry with the key
   * must run again, not replay it.
   */
  async release(userId: string, key: string, jobId: string): Promise<void> {
    await this.#store.release(userId, key, jobId);
  }

  /** Drops keys past the window; returns how many. */
  forgetExpired(): Promise<number> {
    return this.#store.forgetBefore(new Date(this.#now().getTime() - idempotencyWindowMs));
  }
}
