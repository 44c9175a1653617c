import type { Sql } from 'postgres';
import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { Queryable } from '../../database/postgres/queryable.ts';
import type { AdminAction, AdminActionEntry, ChatAdminStore, SubjectCount } from '../chat-admin-store.ts';

/**
 * `ChatAdminStore` on PostgreSQL: each change and its audit entry are one transaction. A refund's audit
 * insert is guarded by the partial unique index `admin_refund_once`: a second refund of an image waits for
 * the first to commit, then inserts nothing, so the counter is decremented once under any concurrency.
 */
export class PostgresChatAdminStore implements ChatAdminStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async audit(entry: AdminActionEntry): Promise<void> {
    await insertAudit(this.#sql, entry);
  }

  async recentActions(limit: number): Promise<AdminAction[]> {
    const rows = await this.#sql<
      { at: Date; actor: string; place: string | null; action: string; target: string; detail: string }[]
    >`SELECT at, actor, place, action, target, detail FROM admin_actions ORDER BY id DESC LIMIT ${limit}`;
    return rows.map((row) => ({
      at: isoTimestamp(row.at),
      actor: row.actor,
      place: row.place ?? undefined,
      action: row.action,
      target: row.target,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  async block(identity: string, entry: AdminActionEntry): Promise<void> {
    await this.#sql.begin(async (sql) => {
      await sql`
        INSERT INTO chat_blocks (identity, blocked_by, blocked_at) VALUES (${identity}, ${entry.actor}, ${entry.at})
        ON CONFLICT (identity) DO NOTHING`;
      await insertAudit(sql, entry);
    });
  }

  async unblock(identity: string, entry: (removed: boolean) => AdminActionEntry): Promise<boolean> {
    return this.#sql.begin(async (sql) => {
      const removed =
        (await sql`DELETE FROM chat_blocks WHERE identity = ${identity} RETURNING identity`).length > 0;
      await insertAudit(sql, entry(removed));
      return removed;
    });
  }

  async isBlocked(identity: string): Promise<boolean> {
    const rows = await this.#sql`SELECT 1 FROM chat_blocks WHERE identity = ${identity}`;
    return rows.length > 0;
  }

  async generation(imageId: string): Promise<{ userId: string; createdAt: Date } | undefined> {
    const [row] = await this.#sql<{ user_id: string; created_at: Date }[]>`
      SELECT user_id, created_at FROM generations WHERE id = ${imageId}`;
    return row && { userId: row.user_id, createdAt: row.created_at };
  }

  async refundOnce(
    entry: Omit<AdminActionEntry, 'action'>,
    subject: string,
    period: string,
  ): Promise<boolean> {
    return this.#sql.begin(async (sql) => {
      const audited = await sql`
        INSERT INTO admin_actions (at, actor, place, action, target, detail)
        VALUES (${entry.at}, ${entry.actor}, ${entry.place ?? null}, 'refund', ${entry.target}, ${JSON.stringify(entry.detail)})
        ON CONFLICT (target) WHERE action = 'refund' DO NOTHING
        RETURNING id`;
      if (audited.length === 0) return false;
      await sql`
        UPDATE quota_counters SET used_images = GREATEST(0, used_images - 1)
        WHERE subject = ${subject} AND period = ${period}`;
      return true;
    });
  }

  async countsWithPrefix(prefix: string, period: string): Promise<SubjectCount[]> {
    // starts_with, not a range: PostgreSQL compares text by the database's collation, where `:` and `;` need
    // not sort next to each other. The ORDER BY names "C" so ties sort by bytes, as on SQLite.
    const rows = await this.#sql<{ subject: string; used_images: number }[]>`
      SELECT subject, used_images FROM quota_counters
      WHERE period = ${period} AND starts_with(subject, ${prefix})
      ORDER BY used_images DESC, subject COLLATE "C"`;
    return rows.map((row) => ({ subject: row.subject, images: row.used_images }));
  }
}

async function insertAudit(sql: Queryable, entry: AdminActionEntry): Promise<void> {
  await sql`
    INSERT INTO admin_actions (at, actor, place, action, target, detail)
    VALUES (${entry.at}, ${entry.actor}, ${entry.place ?? null}, ${entry.action}, ${entry.target}, ${JSON.stringify(entry.detail)})`;
}
