import type { Sql } from 'postgres';
import type { Queryable } from '../../database/postgres/queryable.ts';
import type { HeldIdempotencyKey, IdempotencyKeyUse, IdempotencyStore } from '../idempotency-store.ts';
import type { NewJobRow } from '../new-job-row.ts';
import { insertJob } from './postgres-job-rows.ts';

/**
 * `IdempotencyStore` on PostgreSQL. A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE <expired>`: a
 * concurrent first use waits on the winner's row lock, then finds it held and changes nothing.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async claim(use: IdempotencyKeyUse, expiredBefore: Date, job?: NewJobRow): Promise<boolean> {
    if (!job) return claimKey(this.#sql, use, expiredBefore);
    // The key and its job's row commit together; a concurrent claimer waits on the key's row lock till then.
    return this.#sql.begin(async (sql) => {
      const claimed = await claimKey(sql, use, expiredBefore);
      if (claimed) await insertJob(sql, job);
      return claimed;
    });
  }

  async find(userId: string, key: string): Promise<HeldIdempotencyKey | undefined> {
    const [row] = await this.#sql<{ request_hash: string; job_id: string; created_at: Date }[]>`
      SELECT request_hash, job_id, created_at FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`;
    return row ? { requestHash: row.request_hash, jobId: row.job_id, createdAt: row.created_at } : undefined;
  }

  async release(userId: string, key: string, jobId: string): Promise<boolean> {
    const result = await this.#sql`
      DELETE FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key} AND job_id = ${jobId}`;
    return result.count === 1;
  }

  async forgetBefore(cutoff: Date): Promise<number> {
    const result = await this.#sql`DELETE FROM idempotency_keys WHERE created_at < ${cutoff}`;
    return result.count;
  }
}

async function claimKey(sql: Queryable, use: IdempotencyKeyUse, expiredBefore: Date): Promise<boolean> {
  const rows = await sql`
    INSERT INTO idempotency_keys AS k (user_id, key, request_hash, job_id, created_at)
    VALUES (${use.userId}, ${use.key}, ${use.requestHash}, ${use.jobId}, ${use.createdAt})
    ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
      job_id = excluded.job_id, created_at = excluded.created_at
    WHERE k.created_at < ${expiredBefore}
    RETURNING 1`;
  return rows.length === 1;
}
