import { isoTimestamp } from '../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { validationError } from '../errors/imagine-error.ts';
import type { GenerationWarning } from '../providers/image-model.ts';

/** Where a generation was asked for. */
export type GenerationSource = 'api' | 'discord' | 'slack' | 'cli';

/** How an image was made from another (or from a caller's input image); text-to-image has none. */
export type GenerationKind = 'image_to_image' | 'variation' | 'remix' | 'upscale';

/** One stored image and everything needed to show, reproduce or audit it. */
export interface GenerationRecord {
  id: string;
  userId: string;
  batchId: string | undefined;
  source: GenerationSource;
  prompt: string;
  promptUsed: string;
  negativePrompt: string | undefined;
  style: string | undefined;
  model: string;
  seed: number | undefined;
  width: number;
  height: number;
  quality: 'standard' | 'high';
  costUsd: number;
  generationMs: number;
  storageKey: string;
  imageUrl: string;
  contentType: string;
  providerRequestId: string | undefined;
  warnings: GenerationWarning[];
  createdAt: Date;
  /** The stored image this one was made from (a variation, remix or upscale of it). */
  parentId: string | undefined;
  kind: GenerationKind | undefined;
}

interface GenerationRow {
  id: string;
  user_id: string;
  batch_id: string | null;
  source: GenerationSource;
  prompt: string;
  prompt_used: string;
  negative_prompt: string | null;
  style: string | null;
  model: string;
  seed: number | null;
  width: number;
  height: number;
  quality: 'standard' | 'high';
  cost_usd: number;
  generation_ms: number;
  storage_key: string;
  image_url: string;
  content_type: string;
  provider_request_id: string | null;
  warnings: string;
  created_at: string;
  parent_id: string | null;
  kind: GenerationKind | null;
}

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

/** A page of a user's history, newest first; `nextCursor` fetches the next page. */
export interface GenerationPage {
  records: GenerationRecord[];
  nextCursor: string | undefined;
}

/** The generations table: what was made, for whom, and where it is stored. */
export class GenerationRecords {
  readonly #statements;

  constructor(database: SqliteDatabase) {
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
    };
  }

  /** Records one generation. Call inside the transaction that charges for it. */
  insert(record: GenerationRecord): void {
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
      record.warnings.length === 0 ? '[]' : JSON.stringify(record.warnings),
      isoTimestamp(record.createdAt),
      record.parentId ?? null,
      record.kind ?? null,
    );
  }

  /** One of a user's generations by id. */
  get(userId: string, id: string): GenerationRecord | undefined {
    const row = this.#statements.byId.get(userId, id);
    return row ? fromRow(row) : undefined;
  }

  /** The images of one batch, in the order they were made. */
  listBatch(userId: string, batchId: string): GenerationRecord[] {
    return this.#statements.batch.all(userId, batchId).map(fromRow);
  }

  /** A user's generations, newest first. The cursor is opaque to callers. */
  listForUser(userId: string, page: { limit: number; cursor: string | undefined }): GenerationPage {
    // One extra row tells whether another page exists without a COUNT.
    const rows =
      page.cursor === undefined
        ? this.#statements.firstPage.all(userId, page.limit + 1)
        : this.#statements.nextPage.all(userId, decodeCursor(page.cursor), page.limit + 1);
    const records = rows.slice(0, page.limit).map(fromRow);
    const last = records.at(-1);
    const nextCursor = rows.length > page.limit && last ? encodeCursor(last.id) : undefined;
    return { records, nextCursor };
  }
}

function fromRow(row: GenerationRow): GenerationRecord {
  return {
    id: row.id,
    userId: row.user_id,
    batchId: row.batch_id ?? undefined,
    source: row.source,
    prompt: row.prompt,
    promptUsed: row.prompt_used,
    negativePrompt: row.negative_prompt ?? undefined,
    style: row.style ?? undefined,
    model: row.model,
    seed: row.seed ?? undefined,
    width: row.width,
    height: row.height,
    quality: row.quality,
    costUsd: row.cost_usd,
    generationMs: row.generation_ms,
    storageKey: row.storage_key,
    imageUrl: row.image_url,
    contentType: row.content_type,
    providerRequestId: row.provider_request_id ?? undefined,
    warnings: JSON.parse(row.warnings) as GenerationWarning[],
    createdAt: new Date(row.created_at),
    parentId: row.parent_id ?? undefined,
    kind: row.kind ?? undefined,
  };
}

function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

const recordIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (recordIdPattern.test(id)) return id;
  throw validationError([{ field: 'cursor', message: 'not a cursor this API returned' }]);
}
