import { isoTimestamp } from '../../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../../database/open-database.ts';
import type { AdminAction, AdminActionEntry, ChatAdminStore, SubjectCount } from '../chat-admin-store.ts';

type AuditRow = [string, string, string | null, string, string, string];

/** `ChatAdminStore` on SQLite: each change and its audit entry are one IMMEDIATE transaction. */
export class SqliteChatAdminStore implements ChatAdminStore {
  readonly #statements;
  readonly #block;
  readonly #unblock;
  readonly #refundOnce;

  constructor(database: SqliteDatabase) {
    const statements = {
      audit: database.prepare<AuditRow, void>(
        'INSERT INTO admin_actions (at, actor, place, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // The partial unique index `admin_refund_once` is the conflict: an image's second refund does nothing.
      auditRefund: database.prepare<AuditRow, void>(
        `INSERT INTO admin_actions (at, actor, place, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (target) WHERE action = 'refund' DO NOTHING`,
      ),
      placeCounts: database.prepare<[string, string, string], { subject: string; used_images: number }>(
        `SELECT subject, used_images FROM quota_counters
         WHERE subject >= ? AND subject < ? AND period = ? ORDER BY used_images DESC, subject`,
      ),
      generation: database.prepare<[string], { user_id: string; created_at: string }>(
        'SELECT user_id, created_at FROM generations WHERE id = ?',
      ),
      refund: database.prepare<[string, string], void>(
        'UPDATE quota_counters SET used_images = MAX(0, used_images - 1) WHERE subject = ? AND period = ?',
      ),
      block: database.prepare<[string, string, string], void>(
        'INSERT OR IGNORE INTO chat_blocks (identity, blocked_by, blocked_at) VALUES (?, ?, ?)',
      ),
      unblock: database.prepare<[string], void>('DELETE FROM chat_blocks WHERE identity = ?'),
      isBlocked: database.prepare<[string], { identity: string }>(
        'SELECT identity FROM chat_blocks WHERE identity = ?',
      ),
      actions: database.prepare<
        [number],
        { at: string; actor: string; place: string | null; action: string; target: string; detail: string }
      >('SELECT at, actor, place, action, target, detail FROM admin_actions ORDER BY id DESC LIMIT ?'),
    };
    this.#statements = statements;
    this.#block = database.transaction((identity: string, entry: AdminActionEntry) => {
      statements.block.run(identity, entry.actor, isoTimestamp(entry.at));
      statements.audit.run(...auditRow(entry));
    });
    this.#unblock = database.transaction(
      (identity: string, entry: (removed: boolean) => AdminActionEntry): boolean => {
        const removed = statements.unblock.run(identity).changes > 0;
        statements.audit.run(...auditRow(entry(removed)));
        return removed;
      },
    );
    this.#refundOnce = database.transaction(
      (entry: Omit<AdminActionEntry, 'action'>, subject: string, period: string): boolean => {
        if (statements.auditRefund.run(...auditRow({ ...entry, action: 'refund' })).changes === 0)
          return false;
        statements.refund.run(subject, period);
        return true;
      },
    );
  }

  async audit(entry: AdminActionEntry): Promise<void> {
    this.#statements.audit.run(...auditRow(entry));
  }

  async recentActions(limit: number): Promise<AdminAction[]> {
    return this.#statements.actions.all(limit).map((row) => ({
      at: row.at,
      actor: row.actor,
      place: row.place ?? undefined,
      action: row.action,
      target: row.target,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  async block(identity: string, entry: AdminActionEntry): Promise<void> {
    this.#block.immediate(identity, entry);
  }

  async unblock(identity: string, entry: (removed: boolean) => AdminActionEntry): Promise<boolean> {
    return this.#unblock.immediate(identity, entry);
  }

  async isBlocked(identity: string): Promise<boolean> {
    return this.#statements.isBlocked.get(identity) !== undefined;
  }

  async generation(imageId: string): Promise<{ userId: string; createdAt: Date } | undefined> {
    const row = this.#statements.generation.get(imageId);
    return row && { userId: row.user_id, createdAt: new Date(row.created_at) };
  }

  async refundOnce(
    entry: Omit<AdminActionEntry, 'action'>,
    subject: string,
    period: string,
  ): Promise<boolean> {
    return this.#refundOnce.immediate(entry, subject, period);
  }

  async countsWithPrefix(prefix: string, period: string): Promise<SubjectCount[]> {
    // SQLite compares text byte by byte, so [prefix, prefix with its last character bumped) is exactly the
    // subjects that start with it, and the primary key (subject, period) serves the range.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.#statements.placeCounts
      .all(prefix, end, period)
      .map((row) => ({ subject: row.subject, images: row.used_images }));
  }
}

function auditRow(entry: AdminActionEntry): AuditRow {
  return [
    isoTimestamp(entry.at),
    entry.actor,
    entry.place ?? null,
    entry.action,
    entry.target,
    JSON.stringify(entry.detail),
  ];
}
