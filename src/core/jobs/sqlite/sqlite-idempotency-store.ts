import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { HeldIdempotencyKey, IdempotencyKeyUse, IdempotencyStore } from '../idempotency-store.ts';
import type { NewJobRow } from '../new-job-row.ts';
import type { SqliteJobRows } from './sqlite-job-rows.ts';

/**
 * `IdempotencyStore` on SQLite: each method one statement, which SQLite serialises across every process
 * sharing the file. Instants are ISO text, which sorts as time does.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly #statements;
  readonly #claimWithJob: (use: IdempotencyKeyUse, expiredBefore: Date, job: NewJobRow) => boolean;

  /** `jobs` writes the row of a job claimed with its key, in the claim's own transaction. */
  constructor(database: SqliteDatabase, jobs: SqliteJobRows) {
    this.#statements = {
      claim: database.prepare<[string, string, string, string, string, string], void>(
        `INSERT INTO idempotency_keys (user_id, key, request_hash, job_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
           job_id = excluded.job_id, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < ?`,
      ),
      find: database.prepare<[string, string], { request_hash: string; job_id: string; created_at: string }>(
        'SELECT request_hash, job_id, created_at FROM idempotency_keys WHERE user_id = ? AND key = ?',
      ),
      release: database.prepare<[string, string, string], void>(
        'DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND job_id = ?',
      ),
      forgetBefore: database.prepare<[string], void>('DELETE FROM idempotency_keys WHERE created_at < ?'),
    };
    this.#claimWithJob = database.transaction(
      (use: IdempotencyKeyUse, expiredBefore: Date, job: NewJobRow) => {
        const claimed = this.#claimNow(use, expiredBefore);
        if (claimed) jobs.insert(job);
        return claimed;
      },
    ).immediate;
  }

  async claim(use: IdempotencyKeyUse, expiredBefore: Date, job?: NewJobRow): Promise<boolean> {
    return job ? this.#claimWithJob(use, expiredBefore, job) : this.#claimNow(use, expiredBefore);
  }

  #claimNow(use: IdempotencyKeyUse, expiredBefore: Date): boolean {
    const { changes } = this.#statements.claim.run(
      use.userId,
      use.key,
      use.requestHash,
      use.jobId,
      isoTimestamp(use.createdAt),
      expiredBefore.toISOString(),
    );
    return changes === 1;
  }

  async find(userId: string, key: string): Promise<HeldIdempotencyKey | undefined> {
    const row = this.#statements.find.get(userId, key);
    return row
      ? { requestHash: row.request_hash, jobId: row.job_id, createdAt: new Date(row.created_at) }
      : undefined;
  }

  async release(userId: string, key: string, jobId: string): Promise<boolean> {
    return this.#statements.release.run(userId, key, jobId).changes === 1;
  }

  async forgetBefore(cutoff: Date): Promise<number> {
    return this.#statements.forgetBefore.run(cutoff.toISOString()).changes;
  }
}
