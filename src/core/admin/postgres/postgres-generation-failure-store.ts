import type { Sql } from 'postgres';
import type { GenerationFailureStore } from '../generation-failure-store.ts';
import type { GenerationFailure } from '../generation-failures.ts';

/** `GenerationFailureStore` on PostgreSQL. */
export class PostgresGenerationFailureStore implements GenerationFailureStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async record(failure: GenerationFailure, at: Date): Promise<void> {
    await this.#sql`
      INSERT INTO generation_failures (user_id, model, provider, code, images, created_at)
      VALUES (${failure.userId}, ${failure.model}, ${failure.provider}, ${failure.code}, ${failure.images}, ${at})`;
  }
}
