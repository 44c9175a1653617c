import type { SqliteDatabase } from '../../database/open-database.ts';
import type { WriteBatcher } from '../../database/write-batcher.ts';
import type {
  ClaimedJob,
  JobClaim,
  JobEnding,
  JobRecord,
  JobStart,
  JobStore,
  StartAttempt,
} from '../job-store.ts';
import type { NewJobRow } from '../new-job-row.ts';
import { SqliteJobRows } from './sqlite-job-rows.ts';

/**
 * `JobStore` on SQLite. The request path's writes (insert, start, progress, provider id, end, heartbeat)
 * go through the group-commit batcher, as they always have, so concurrent jobs share one commit; recovery's
 * writes (claim, adopt) are rare and take a transaction of their own. `rows` is the same table's
 * synchronous statements, for work that must ride on a transaction already open (a quota hold, a charge).
 */
export class SqliteJobStore implements JobStore {
  readonly rows: SqliteJobRows;
  readonly #writes: WriteBatcher;

  constructor(database: SqliteDatabase, writes: WriteBatcher) {
    this.rows = new SqliteJobRows(database);
    this.#writes = writes;
  }

  insert(job: NewJobRow): Promise<void> {
    return this.#writes.run(() => this.rows.insert(job));
  }

  insertIfBelow(job: Omit<NewJobRow, 'status'>, maxRunning: number): Promise<'running' | 'queued'> {
    return this.#writes.run(() => this.rows.insertIfBelow(job, maxRunning));
  }

  start(id: string, now: Date): Promise<boolean> {
    return this.#writes.run(() => this.rows.start(id, now));
  }

  startIfBelow(start: JobStart): Promise<StartAttempt> {
    return this.#writes.run(() => this.rows.startIfBelow(start));
  }

  setProviderRequest(id: string, providerRequestId: string): Promise<void> {
    return this.#writes.run(() => this.rows.setProviderRequest(id, providerRequestId));
  }

  setProgress(id: string, progress: number): Promise<void> {
    return this.#writes.run(() => this.rows.setProgress(id, progress));
  }

  finish(id: string, ending: JobEnding, now: Date): Promise<boolean> {
    return this.#writes.run(() => this.rows.finish(id, ending, now));
  }

  heartbeat(workerId: string, now: Date): Promise<void> {
    return this.#writes.run(() => this.rows.heartbeat(workerId, now));
  }

  async unfinishedFrom(fromId: string): Promise<JobRecord[]> {
    return this.rows.unfinishedFrom(fromId);
  }

  async adopt(id: string, workerId: string, now: Date): Promise<boolean> {
    return this.rows.adopt(id, workerId, now);
  }

  async claimAbandoned(claim: JobClaim): Promise<ClaimedJob[]> {
    return this.rows.claimAbandoned(claim);
  }

  async get(id: string, userId: string): Promise<JobRecord | undefined> {
    return this.rows.get(id, userId);
  }
}
