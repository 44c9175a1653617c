import type { SqliteDatabase } from '../database/open-database.ts';
import { validationError } from '../errors/imagine-error.ts';
import type { GenerationWarning } from '../providers/image-model.ts';

/** Where a generation was asked for. */
export type GenerationSource = 'api' | 'discord' | 'slack' | 'cli';

/** One stored image and everything needed to show, reproduce or audit it. */
export interface GenerationRecord {
  id: string;
  userId: string;
  reservationId: number;
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
}

interface GenerationRow {
  id: string;
  user_id: string;
  reservation_id: number;
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
}

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
      insert: database.prepare(
        `INSERT INTO generations (id, user_id, reservation_id, batch_id, source, prompt, prompt_used, negative_prompt,
           style, model, seed, width, height, quality, cost_usd, generation_ms, storage_key, image_url, content_type,
           provider_request_id, warnings, created_at)
         VALUES (@id, @user_id, @reservation_id, @batch_id, @source, @prompt, @prompt_used, @negative_prompt, @style,
           @model, @seed, @width, @height, @quality, @cost_usd, @generation_ms, @storage_key, @image_url,
           @content_type, @provider_request_id, @warnings, @created_at)`,
      ),
      byId: database.prepare<[string], GenerationRow>('SELECT * FROM generations WHERE id = ?'),
      firstPage: database.prepare<[string, number], GenerationRow>(
        'SELECT * FROM generations WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      nextPage: database.prepare<[string, string, string, number], GenerationRow>(
        `SELECT * FROM generations WHERE user_id = ? AND (created_at, id) < (?, ?)
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      storageKeys: database.prepare<[], { storage_key: string }>('SELECT storage_key FROM generations'),
    };
  }

  /** Records one generation. Call inside the transaction that charges for it. */
  insert(record: GenerationRecord): void {
    this.#statements.insert.run({
      id: record.id,
      user_id: record.userId,
      reservation_id: record.reservationId,
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
      warnings: JSON.stringify(record.warnings),
      created_at: record.createdAt.toISOString(),
    });
  }

  /** One generation by id. */
  get(id: string): GenerationRecord | undefined {
    const row = this.#statements.byId.get(id);
    return row ? fromRow(row) : undefined;
  }

  /** A user's generations, newest first. The cursor is opaque to callers. */
  listForUser(userId: string, page: { limit: number; cursor: string | undefined }): GenerationPage {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    // One extra row tells whether another page exists without a COUNT.
    const rows = after
      ? this.#statements.nextPage.all(userId, after.createdAt, after.id, page.limit + 1)
      : this.#statements.firstPage.all(userId, page.limit + 1);
    const records = rows.slice(0, page.limit).map(fromRow);
    const last = records.at(-1);
    const nextCursor =
      rows.length > page.limit && last ? encodeCursor(last.createdAt.toISOString(), last.id) : undefined;
    return { records, nextCursor };
  }

  /** Every storage key a record points at, to find orphaned objects. */
  allStorageKeys(): Set<string> {
    return new Set(this.#statements.storageKeys.all().map((row) => row.storage_key));
  }
}

function fromRow(row: GenerationRow): GenerationRecord {
  return {
    id: row.id,
    userId: row.user_id,
    reservationId: row.reservation_id,
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
  };
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // reported below
  }
  throw validationError([{ field: 'cursor', message: 'not a cursor this API returned' }]);
}
