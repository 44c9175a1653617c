import { validationError } from '../errors/imagine-error.ts';
import type { GenerationWarning } from '../providers/image-model.ts';
import type { GenerationStore } from './generation-store.ts';

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

/** A page of a user's history, newest first; `nextCursor` fetches the next page. */
export interface GenerationPage {
  records: GenerationRecord[];
  nextCursor: string | undefined;
}

/**
 * A user's stored images over any `GenerationStore` engine: what was made, for whom, where it is stored,
 * what it was made from, and the history pages with their opaque cursors.
 */
export class GenerationRecords {
  readonly #store: GenerationStore;

  constructor(store: GenerationStore) {
    this.#store = store;
  }

  /** Records generations, all or none (a charge records its images in its own commit instead). */
  async insert(records: readonly GenerationRecord[]): Promise<void> {
    await this.#store.insert(records);
  }

  /** One of a user's generations by id. */
  get(userId: string, id: string): Promise<GenerationRecord | undefined> {
    return this.#store.get(userId, id);
  }

  /** The images of one batch, in the order they were made. */
  listBatch(userId: string, batchId: string): Promise<GenerationRecord[]> {
    return this.#store.listBatch(userId, batchId);
  }

  /** A user's generations, newest first. The cursor is opaque to callers. */
  async listForUser(
    userId: string,
    page: { limit: number; cursor: string | undefined },
  ): Promise<GenerationPage> {
    // One extra row tells whether another page exists without a COUNT.
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const rows = await this.#store.newestFirst(userId, page.limit + 1, before);
    const records = rows.length > page.limit ? rows.slice(0, page.limit) : rows;
    const last = records.at(-1);
    const nextCursor = rows.length > page.limit && last ? encodeCursor(last.id) : undefined;
    return { records, nextCursor };
  }

  /**
   * Removes one of a user's generations and answers it (its `storageKey` names the file to remove next),
   * or undefined when there was none. Images made from it keep their `parentId`: lineage is history.
   */
  delete(userId: string, id: string): Promise<GenerationRecord | undefined> {
    return this.#store.delete(userId, id);
  }
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
