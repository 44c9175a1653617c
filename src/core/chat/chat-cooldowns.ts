import type { SqliteDatabase } from '../database/open-database.ts';
import type { ChatIdentity } from './chat-images.ts';

/** A claimed cooldown, or how long is left of the one running. */
export type CooldownClaim = { claimed: true; startedMs: number } | { claimed: false; secondsLeft: number };

/**
 * When each chat identity last started a generation. Claiming is one guarded upsert (it lands only when
 * the last start is at least `seconds` old), so two commands at once, in one process or several sharing
 * the file, cannot both pass.
 */
export class ChatCooldowns {
  readonly #now: () => Date;
  readonly #statements;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#statements = {
      claim: database.prepare<[string, number, number], void>(
        `INSERT INTO chat_cooldowns (identity, started_ms) VALUES (?, ?)
         ON CONFLICT (identity) DO UPDATE SET started_ms = excluded.started_ms WHERE started_ms <= ?`,
      ),
      startedAt: database.prepare<[string], { started_ms: number }>(
        'SELECT started_ms FROM chat_cooldowns WHERE identity = ?',
      ),
      giveBack: database.prepare<[string, number], void>(
        'DELETE FROM chat_cooldowns WHERE identity = ? AND started_ms = ?',
      ),
    };
  }

  /** Starts a cooldown of `seconds` for `identity`, unless one is still running. */
  claim(identity: ChatIdentity, seconds: number): CooldownClaim {
    const nowMs = this.#now().getTime();
    const cooldownMs = seconds * 1000;
    if (this.#statements.claim.run(identity, nowMs, nowMs - cooldownMs).changes > 0) {
      return { claimed: true, startedMs: nowMs };
    }
    const startedMs = this.#statements.startedAt.get(identity)?.started_ms ?? nowMs;
    return { claimed: false, secondsLeft: Math.max(1, Math.ceil((startedMs + cooldownMs - nowMs) / 1000)) };
  }

  /**
   * Gives a claim back (the generation it allowed failed): the start it replaced was already past its
   * cooldown, so removing the row is the same as restoring it. A later claim is left alone.
   */
  giveBack(identity: ChatIdentity, startedMs: number): void {
    this.#statements.giveBack.run(identity, startedMs);
  }
}
