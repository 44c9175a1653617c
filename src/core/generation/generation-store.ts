import type { GenerationRecord } from './generation-records.ts';

/**
 * The generations table, one engine per folder (`sqlite/`, `postgres/`). Rows only: `GenerationRecords`
 * owns paging and cursors. A user's history is ordered by id (UUIDv7, so by creation), which never ties,
 * so a page boundary can neither repeat nor skip a record, however many share a timestamp.
 */
export interface GenerationStore {
  /** Records generations, all or none. */
  insert(records: readonly GenerationRecord[]): Promise<void>;
  /** One of a user's generations by id; another user's is none. */
  get(userId: string, id: string): Promise<GenerationRecord | undefined>;
  /** The images of one of a user's batches, in the order they were made. */
  listBatch(userId: string, batchId: string): Promise<GenerationRecord[]>;
  /** Up to `limit` of a user's generations, newest first; only those older than `beforeId` when given. */
  newestFirst(userId: string, limit: number, beforeId: string | undefined): Promise<GenerationRecord[]>;
  /** Removes one of a user's generations; answers what was removed, or undefined when there was none. */
  delete(userId: string, id: string): Promise<GenerationRecord | undefined>;
}
