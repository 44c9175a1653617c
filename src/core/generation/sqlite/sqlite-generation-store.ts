import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { WriteBatcher } from '../../database/write-batcher.ts';
import type { GenerationRecord } from '../generation-records.ts';
import { type GenerationRow, recordFromRow, warningsText } from '../generation-rows.ts';
import type { GenerationStore } from '../generation-store.ts';

type GenerationInsertValues = [
  string,
  string,
  string | null,
  string,
  string,
  string,
  string | null,
  string | null,
  string,
  number | null,
  number,
  number,
  string,
  number,
  number,
  string,
  string,
  string,
  string | null,
  string,
  string,
  string | null,
  string | null,
];

/**
 * `GenerationStore` on SQLite: prepared statements behind promises. Inserts join the group commit: the
 * generator's inside the charge's own `writes.run` (`insertNow`), any other through the batcher.
 */
export class SqliteGenerationStore implements GenerationStore {
  readonly #writes: WriteBatcher;
  readonly #statements;

  constructor(database: SqliteDatabase, writes: WriteBatcher) {
    this.#writes = writes;
    this.#statements = {
      // Positional parameters: this runs on every request, and binding 22 names costs more than the insert.
      insert: database.prepare<GenerationInsertValues, void>(
        `INSERT INTO generations (id, user_id, batch_id, source, prompt, prompt_used, negative_prompt,
           style, model, seed, width, height, quality, cost_usd, generation_ms, storage_key, image_url, content_type,
           provider_request_id, warnings, created_at, parent_id, kind)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      byId: database.prepare<[string, string], GenerationRow>(
        'SELECT * FROM generations WHERE user_id = ? AND id = ?',
      ),
      // Ids are UUIDv7, so id order is creation order and one index serves both lookups and history.
      firstPage: database.prepare<[string, number], GenerationRow>(
        'SELECT * FROM generations WHERE user_id = ? ORDER BY id DESC LIMIT ?',
      ),
      nextPage: database.prepare<[string, string, number], GenerationRow>(
        'SELECT * FROM generations WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
      ),
      batch: database.prepare<[string, string], GenerationRow>(
        'SELECT * FROM generations WHERE user_id = ? AND batch_id = ? ORDER BY id',
      ),
      delete: database.prepare<[string, string], GenerationRow>(
        'DELETE FROM generations WHERE user_id = ? AND id = ? RETURNING *',
      ),
    };
  }

  async insert(records: readonly GenerationRecord[]): Promise<void> {
    await this.#writes.run(() => {
      for (const record of records) this.insertNow(record);
    });
  }

  /** Call inside `writes.run`, the transaction that charges for the record. */
  insertNow(record: GenerationRecord): void {
    this.#statements.insert.run(
      record.id,
      record.userId,
      record.batchId ?? null,
      record.source,
      record.prompt,
      record.promptUsed,
      record.negativePrompt ?? null,
      record.style ?? null,
      record.model,
      record.seed ?? null,
      record.width,
      record.height,
      record.quality,
      record.costUsd,
      record.generationMs,
      record.storageKey,
      record.imageUrl,
      record.contentType,
      record.providerRequestId ?? null,
      warningsText(record.warnings),
      isoTimestamp(record.createdAt),
      record.parentId ?? null,
      record.kind ?? null,
    );
  }

  async get(userId: string, id: string): Promise<GenerationRecord | undefined> {
    const row = this.#statements.byId.get(userId, id);
    return row ? recordFromRow(row) : undefined;
  }

  async listBatch(userId: string, batchId: string): Promise<GenerationRecord[]> {
    return this.#statements.batch.all(userId, batchId).map(recordFromRow);
  }

  async newestFirst(
    userId: string,
    limit: number,
    beforeId: string | undefined,
  ): Promise<GenerationRecord[]> {
    const rows =
      beforeId === undefined
        ? this.#statements.firstPage.all(userId, limit)
        : this.#statements.nextPage.all(userId, beforeId, limit);
    return rows.map(recordFromRow);
  }

  async delete(userId: string, id: string): Promise<GenerationRecord | undefined> {
    const row = this.#statements.delete.get(userId, id);
    return row ? recordFromRow(row) : undefined;
  }
}
