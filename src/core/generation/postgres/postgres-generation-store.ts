import type { Sql, TransactionSql } from 'postgres';
import type { GenerationRecord } from '../generation-records.ts';
import { type GenerationRow, recordFromRow, warningsText } from '../generation-rows.ts';
import type { GenerationStore } from '../generation-store.ts';

/** The pool, or a transaction on it (so records can commit with the charge that pays for them). */
type Queryable = Sql | TransactionSql;

const insertedColumns = [
  'id',
  'user_id',
  'batch_id',
  'source',
  'prompt',
  'prompt_used',
  'negative_prompt',
  'style',
  'model',
  'seed',
  'width',
  'height',
  'quality',
  'cost_usd',
  'generation_ms',
  'storage_key',
  'image_url',
  'content_type',
  'provider_request_id',
  'warnings',
  'created_at',
  'parent_id',
  'kind',
] as const;

/**
 * Inserts `records` in one statement on `sql`: the pool, or the transaction that charges for them, so the
 * charge and its records commit together or not at all.
 */
export async function insertGenerationRecords(
  sql: Queryable,
  records: readonly GenerationRecord[],
): Promise<void> {
  if (records.length === 0) return;
  await sql`INSERT INTO generations ${sql(records.map(rowOf), insertedColumns)}`;
}

/**
 * `insertGenerationRecords` as a CTE named `recorded` for `count` records (values: `generationRecordsValues`),
 * for the statement that charges for the records, so the charge and its records are one statement.
 */
export function generationRecordsCte(count: number): string {
  const rows = Array.from(
    { length: count },
    (_, row) => `(${insertedColumns.map((column) => `{r${row}_${column}}`).join(', ')})`,
  );
  return `recorded AS (INSERT INTO generations (${insertedColumns.join(', ')}) VALUES ${rows.join(', ')})`;
}

/** The values `generationRecordsCte` names, for `records`. */
export function generationRecordsValues(records: readonly GenerationRecord[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  records.forEach((record, row) => {
    const columns = rowOf(record);
    for (const column of insertedColumns) values[`r${row}_${column}`] = columns[column];
  });
  return values;
}

function rowOf(record: GenerationRecord): Omit<GenerationRow, 'created_at' | 'seed'> & {
  created_at: Date;
  seed: number | null;
} {
  return {
    id: record.id,
    user_id: record.userId,
    batch_id: record.batchId ?? null,
    source: record.source,
    prompt: record.prompt,
    prompt_used: record.promptUsed,
    negative_prompt: record.negativePrompt ?? null,
    style: record.style ?? null,
    model: record.model,
    seed: record.seed ?? null,
    width: record.width,
    height: record.height,
    quality: record.quality,
    cost_usd: record.costUsd,
    generation_ms: record.generationMs,
    storage_key: record.storageKey,
    image_url: record.imageUrl,
    content_type: record.contentType,
    provider_request_id: record.providerRequestId ?? null,
    warnings: warningsText(record.warnings),
    created_at: record.createdAt,
    parent_id: record.parentId ?? null,
    kind: record.kind ?? null,
  };
}

/**
 * `GenerationStore` on PostgreSQL. History walks the `(user_id, id)` index backwards; `id < cursor` and
 * `ORDER BY id` compare under the same collation, so pages meet exactly whatever the database's locale.
 */
export class PostgresGenerationStore implements GenerationStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async insert(records: readonly GenerationRecord[]): Promise<void> {
    await insertGenerationRecords(this.#sql, records);
  }

  async get(userId: string, id: string): Promise<GenerationRecord | undefined> {
    const [row] = await this.#sql<GenerationRow[]>`
      SELECT * FROM generations WHERE user_id = ${userId} AND id = ${id}`;
    return row ? recordFromRow(row) : undefined;
  }

  async listBatch(userId: string, batchId: string): Promise<GenerationRecord[]> {
    const rows = await this.#sql<GenerationRow[]>`
      SELECT * FROM generations WHERE user_id = ${userId} AND batch_id = ${batchId} ORDER BY id`;
    return rows.map(recordFromRow);
  }

  async newestFirst(
    userId: string,
    limit: number,
    beforeId: string | undefined,
  ): Promise<GenerationRecord[]> {
    const rows =
      beforeId === undefined
        ? await this.#sql<GenerationRow[]>`
            SELECT * FROM generations WHERE user_id = ${userId} ORDER BY id DESC LIMIT ${limit}`
        : await this.#sql<GenerationRow[]>`
            SELECT * FROM generations WHERE user_id = ${userId} AND id < ${beforeId}
            ORDER BY id DESC LIMIT ${limit}`;
    return rows.map(recordFromRow);
  }

  async delete(userId: string, id: string): Promise<GenerationRecord | undefined> {
    const [row] = await this.#sql<GenerationRow[]>`
      DELETE FROM generations WHERE user_id = ${userId} AND id = ${id} RETURNING *`;
    return row ? recordFromRow(row) : undefined;
  }
}
