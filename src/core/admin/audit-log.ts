import { isoTimestamp } from '../database/iso-timestamp.ts';
import { validationError } from '../errors/imagine-error.ts';
import type { AdminImageRecord } from './admin-report-store.ts';
import type { AuditRow, AuditStore, ImageRefund, NewAuditRow } from './audit-store.ts';

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

/** A change to record: the entry without the id and time the trail gives it. */
export type AuditDraft = Pick<AuditEntry, 'actor' | 'action' | 'target' | 'before' | 'after'>;

/** A page of the audit trail, newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | undefined;
}

/** The audit trail of admin changes: append-only, read newest first. */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #now: () => Date;

  constructor(store: AuditStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /** Records one change, once it has been made. */
  async record(entry: AuditDraft): Promise<void> {
    await this.#store.append(this.#row(entry));
  }

  /**
   * Deletes a stored image's record, refunds what `refundFor` names (when given) and records the entry
   * `entryFor` makes of it, in one transaction. Undefined, with nothing changed, when no record has `id`.
   */
  async deleteImage(
    id: string,
    change: {
      refundFor: ((image: AdminImageRecord) => ImageRefund) | undefined;
      entryFor: (image: AdminImageRecord) => AuditDraft;
    },
  ): Promise<AdminImageRecord | undefined> {
    return this.#store.deleteImage(id, {
      refundFor: change.refundFor,
      auditFor: (image) => this.#row(change.entryFor(image)),
    });
  }

  #row(entry: AuditDraft): NewAuditRow {
    return {
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      beforeJson: entry.before === undefined ? null : JSON.stringify(entry.before),
      afterJson: entry.after === undefined ? null : JSON.stringify(entry.after),
      createdAt: isoTimestamp(this.#now()),
    };
  }

  /** The newest entries first; `cursor` is a `nextCursor` from an earlier page. */
  async list(page: { limit: number; cursor: string | undefined }): Promise<AuditPage> {
    const before = page.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeNumberCursor(page.cursor);
    const rows = await this.#store.before(before, page.limit + 1);
    const entries = rows.slice(0, page.limit).map(entryOf);
    const last = entries.at(-1);
    return {
      entries,
      nextCursor: rows.length > page.limit && last ? encodeNumberCursor(last.id) : undefined,
    };
  }
}

function entryOf(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    before: row.beforeJson === null ? null : (JSON.parse(row.beforeJson) as unknown),
    after: row.afterJson === null ? null : (JSON.parse(row.afterJson) as unknown),
    createdAt: row.createdAt,
  };
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
