import { isoTimestamp } from '../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { validationError } from '../errors/imagine-error.ts';

/** One admin change: who made it, what it was, on what, and the state before and after. */
export interface AuditEntry {
  id: number;
  /** The admin key's prefix and its owner (`imk_abcd1234 (ops)`), never the key. */
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  createdAt: string;
}

interface AuditRow {
  id: number;
  actor: string;
  action: string;
  target: string;
  before_json: string | null;
  after_json: string | null;
  created_at: string;
}

/** A page of the audit trail, newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | undefined;
}

/** The audit trail of admin changes: append-only, read newest first. */
export class AuditLog {
  readonly #now: () => Date;
  readonly #statements;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#statements = {
      insert: database.prepare<[string, string, string, string | null, string | null, string], void>(
        'INSERT INTO admin_audit (actor, action, target, before_json, after_json, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      page: database.prepare<[number, number], AuditRow>(
        'SELECT * FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?',
      ),
    };
  }

  /** Records one change; call inside the transaction that makes it, so neither exists without the other. */
  record(entry: { actor: string; action: string; target: string; before: unknown; after: unknown }): void {
    this.#statements.insert.run(
      entry.actor,
      entry.action,
      entry.target,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      isoTimestamp(this.#now()),
    );
  }

  /** The newest entries first; `cursor` is a `nextCursor` from an earlier page. */
  list(page: { limit: number; cursor: string | undefined }): AuditPage {
    const before = page.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeNumberCursor(page.cursor);
    const rows = this.#statements.page.all(before, page.limit + 1);
    const entries = rows.slice(0, page.limit).map((row) => ({
      id: row.id,
      actor: row.actor,
      action: row.action,
      target: row.target,
      before: row.before_json === null ? null : (JSON.parse(row.before_json) as unknown),
      after: row.after_json === null ? null : (JSON.parse(row.after_json) as unknown),
      createdAt: row.created_at,
    }));
    const last = entries.at(-1);
    return {
      entries,
      nextCursor: rows.length > page.limit && last ? encodeNumberCursor(last.id) : undefined,
    };
  }
}

/** An opaque cursor over an integer key (a row id). */
export function encodeNumberCursor(value: number): string {
  return Buffer.from(String(value)).toString('base64url');
}

/** The integer behind a cursor; a 422 naming `cursor` when it is not one we handed out. */
export function decodeNumberCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,15}$/.test(text)) {
    throw validationError([{ field: 'cursor', message: 'not a cursor this API returned' }]);
  }
  return Number(text);
}
