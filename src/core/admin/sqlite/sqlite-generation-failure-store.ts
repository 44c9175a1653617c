import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { GenerationFailureStore } from '../generation-failure-store.ts';
import type { GenerationFailure } from '../generation-failures.ts';

/** `GenerationFailureStore` on SQLite. */
export class SqliteGenerationFailureStore implements GenerationFailureStore {
  readonly #insert;

  constructor(database: SqliteDatabase) {
    this.#insert = database.prepare<[string, string, string, string, number, string], void>(
      'INSERT INTO generation_failures (user_id, model, provider, code, images, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  async record(failure: GenerationFailure, at: Date): Promise<void> {
    this.#insert.run(
      failure.userId,
      failure.model,
      failure.provider,
      failure.code,
      failure.images,
      isoTimestamp(at),
    );
  }
}
