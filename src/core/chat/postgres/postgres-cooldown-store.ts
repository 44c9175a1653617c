import type { Sql } from 'postgres';
import type { CooldownStart, CooldownStore } from '../cooldown-store.ts';

/**
 * `CooldownStore` on PostgreSQL. The upsert locks the identity's row before it evaluates the guard against
 * the latest committed start, so two starts at once queue on that row and the second sees the first's.
 */
export class PostgresCooldownStore implements CooldownStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async start(identity: string, startedMs: number, replacesUpToMs: number): Promise<CooldownStart> {
    const started = await this.#sql`
      INSERT INTO chat_cooldowns AS c (identity, started_ms) VALUES (${identity}, ${startedMs})
      ON CONFLICT (identity) DO UPDATE SET started_ms = excluded.started_ms WHERE c.started_ms <= ${replacesUpToMs}
      RETURNING identity`;
    if (started.length > 0) return { started: true };
    // Only for the wait it tells the person: the refusal above stands whatever this reads.
    const [running] = await this.#sql<{ started_ms: number }[]>`
      SELECT started_ms::float8 AS started_ms FROM chat_cooldowns WHERE identity = ${identity}`;
    return { started: false, runningSinceMs: running?.started_ms };
  }

  async giveBack(identity: string, startedMs: number): Promise<void> {
    await this.#sql`DELETE FROM chat_cooldowns WHERE identity = ${identity} AND started_ms = ${startedMs}`;
  }
}
