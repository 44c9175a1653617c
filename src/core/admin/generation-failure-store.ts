import type { GenerationFailure } from './generation-failures.ts';

/** Failed model calls, one engine per folder (`sqlite/`, `postgres/`); the reports read them back. */
export interface GenerationFailureStore {
  record(failure: GenerationFailure, at: Date): Promise<void>;
}
