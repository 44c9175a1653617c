import { createHash } from 'node:crypto';
import type { SqliteDatabase } from '../database/open-database.ts';

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

/** REST idempotency keys per user, shared by every process on the database file. */
export class IdempotencyKeys {
  readonly #statements;
  readonly #now: () => Date;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#statements = {
      claim: database.prepare<[string, string, string, string, string], void>(
        'INSERT OR IGNORE INTO idempotency_keys (user_id, key, request_hash, job_id, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      existing: database.prepare<
        [string, string],
        { request_hash: string; job_id: string; created_at: string }
      >('SELECT request_hash, job_id, created_at FROM idempotency_keys WHERE user_id = ? AND key = ?'),
      forget: database.prepare<[string, string], void>(
        'DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?',
      ),
      release: database.prepare<[string, string, string], void>(
        'DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND job_id = ?',
      ),
      forgetBefore: database.prepare<[string], void>('DELETE FROM idempotency_keys WHERE created_at < ?'),
    };
  }

  /** Claims `key` for `jobId`, or says which earlier job it belongs to. Atomic across processes. */
  claim(userId: string, key: string, hash: string, jobId: string): IdempotencyClaim {
    const now = this.#now();
    if (this.#statements.claim.run(userId, key, hash, jobId, now.toISOString()).changes === 1)
      return { kind: 'new' };
    const existing = this.#statements.existing.get(userId, key);
    if (!existing) return this.claim(userId, key, hash, jobId);
    if (now.getTime() - Date.parse(existing.created_at) > idempotencyWindowMs) {
      this.#statements.forget.run(userId, key);
      return this.claim(userId, key, hash, jobId);
    }
    return existing.request_hash === hash ? { kind: 'replay', jobId: existing.job_id } : { kind: 'conflict' };
  }

  /**
   * Frees `key` if it still belongs to `jobId`: that job ended in a way its caller never heard (cancelled
   * when the client hung up, a failure on our side), so a retry with the key must run again, not replay it.
   */
  release(userId: string, key: string, jobId: string): void {
    this.#statements.release.run(userId, key, jobId);
  }

  /** Drops keys past the window; returns how many. */
  forgetExpired(): number {
    const cutoff = new Date(this.#now().getTime() - idempotencyWindowMs).toISOString();
    return this.#statements.forgetBefore.run(cutoff).changes;
  }
}
