import type { SqliteDatabase } from '../../database/open-database.ts';
import type { CooldownStart, CooldownStore } from '../cooldown-store.ts';

/** `CooldownStore` on SQLite: the guarded upsert lands or not, atomically, for every process on the file. */
export class SqliteCooldownStore implements CooldownStore {
  readonly #statements;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      start: database.prepare<[string, number, number], void>(
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

  async start(identity: string, startedMs: number, replacesUpToMs: number): Promise<CooldownStart> {
    if (this.#statements.start.run(identity, startedMs, replacesUpToMs).changes > 0) return { started: true };
    return { started: false, runningSinceMs: this.#statements.startedAt.get(identity)?.started_ms };
  }

  async giveBack(identity: string, startedMs: number): Promise<void> {
    this.#statements.giveBack.run(identity, startedMs);
  }
}
