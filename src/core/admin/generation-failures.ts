import { isoTimestamp } from '../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../database/open-database.ts';

/** A model call that delivered nothing, for the console's failure rates. */
export interface GenerationFailure {
  userId: string;
  model: string;
  provider: string;
  /** The error code the caller was given (`generation_failed`, `provider_unavailable`, ...). */
  code: string;
  images: number;
}

/** Records failed model calls. Successes are the generations table, so a rate needs only these. */
export class GenerationFailures {
  readonly #now: () => Date;
  readonly #insert;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#insert = database.prepare<[string, string, string, string, number, string], void>(
      'INSERT INTO generation_failures (user_id, model, provider, code, images, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  record(failure: GenerationFailure): void {
    this.#insert.run(
      failure.userId,
      failure.model,
      failure.provider,
      failure.code,
      failure.images,
      isoTimestamp(this.#now()),
    );
  }
}
