import type { ProcessedEventStore } from './processed-event-store.ts';

/** How long a delivery id is remembered: far past any platform's retry window (Slack retries for minutes). */
export const processedEventMemoryMs = 24 * 60 * 60 * 1000;

/**
 * Once-only handling of chat deliveries. Platforms redeliver (Slack's `X-Slack-Retry-Num`, a gateway
 * reconnect) and people double-click buttons; claiming the delivery's id first means the second copy
 * does nothing, so nothing is generated or charged twice. Shared by every process on the database.
 */
export class ProcessedEvents {
  readonly #store: ProcessedEventStore;
  readonly #now: () => Date;

  constructor(store: ProcessedEventStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /** True the first time `key` (e.g. `discord:interaction:<id>`) is claimed, false for every repeat. */
  claim(key: string): Promise<boolean> {
    return this.#store.claim(key, this.#now());
  }

  /** Drops ids older than a day; returns how many. */
  forgetOld(): Promise<number> {
    return this.#store.forgetBefore(new Date(this.#now().getTime() - processedEventMemoryMs));
  }
}
