import type { ChatIdentity } from './chat-images.ts';
import type { CooldownStore } from './cooldown-store.ts';

/** A claimed cooldown, or how long is left of the one running. */
export type CooldownClaim = { claimed: true; startedMs: number } | { claimed: false; secondsLeft: number };

/**
 * When each chat identity last started a generation. Claiming is one guarded upsert in the store (it lands
 * only when the last start is at least `seconds` old), so two commands at once, in one process or several
 * sharing the database, cannot both pass.
 */
export class ChatCooldowns {
  readonly #store: CooldownStore;
  readonly #now: () => Date;

  constructor(store: CooldownStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /** Starts a cooldown of `seconds` for `identity`, unless one is still running. */
  async claim(identity: ChatIdentity, seconds: number): Promise<CooldownClaim> {
    const nowMs = this.#now().getTime();
    const cooldownMs = seconds * 1000;
    const start = await this.#store.start(identity, nowMs, nowMs - cooldownMs);
    if (start.started) return { claimed: true, startedMs: nowMs };
    const startedMs = start.runningSinceMs ?? nowMs;
    return { claimed: false, secondsLeft: Math.max(1, Math.ceil((startedMs + cooldownMs - nowMs) / 1000)) };
  }

  /**
   * Gives a claim back (the generation it allowed failed): the start it replaced was already past its
   * cooldown, so removing the row is the same as restoring it. A later claim is left alone.
   */
  giveBack(identity: ChatIdentity, startedMs: number): Promise<void> {
    return this.#store.giveBack(identity, startedMs);
  }
}
