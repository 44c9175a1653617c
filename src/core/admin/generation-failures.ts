import type { GenerationFailureStore } from './generation-failure-store.ts';

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
  readonly #store: GenerationFailureStore;
  readonly #now: () => Date;

  constructor(store: GenerationFailureStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  async record(failure: GenerationFailure): Promise<void> {
    await this.#store.record(failure, this.#now());
  }
}
