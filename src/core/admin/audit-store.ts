import type { Charge } from '../quota/quota-store.ts';
import type { AdminImageRecord } from './admin-report-store.ts';

/** One audit row as stored: `before` and `after` as JSON text (null for none). */
export interface AuditRow {
  id: number;
  actor: string;
  action: string;
  target: string;
  beforeJson: string | null;
  afterJson: string | null;
  /** ISO 8601, UTC, as `toISOString` writes it. */
  createdAt: string;
}

/** An audit row about to be appended (its id is the store's). */
export type NewAuditRow = Omit<AuditRow, 'id'>;

/** What deleting an image refunds: images and cost back to one user's month. */
export interface ImageRefund {
  userId: string;
  period: string;
  charge: Charge;
}

/**
 * The audit trail's rows, one engine per folder (`sqlite/`, `postgres/`). Append-only; read newest first.
 * It also deletes images, the one admin change whose rows no other store keeps a cache of, so the record,
 * its refund and its audit row commit together.
 */
export interface AuditStore {
  append(row: NewAuditRow): Promise<void>;
  /** Up to `limit` rows whose id is below `beforeId`, newest (highest id) first. */
  before(beforeId: number, limit: number): Promise<AuditRow[]>;
  /**
   * Deletes the generation record `id`, refunds what `refundFor` names (when given) and appends the row
   * `auditFor` makes of it, in one transaction. The delete is the guard: of two concurrent deletions of one
   * image, one deletes, refunds and audits, and the other answers undefined having changed nothing.
   */
  deleteImage(
    id: string,
    change: {
      refundFor: ((image: AdminImageRecord) => ImageRefund) | undefined;
      auditFor: (image: AdminImageRecord) => NewAuditRow;
    },
  ): Promise<AdminImageRecord | undefined>;
}
