import type { SqliteDatabase } from '../../database/open-database.ts';
import { SqliteQuotaEngine } from '../../quota/sqlite/sqlite-quota-engine.ts';
import type { AdminImageRecord } from '../admin-report-store.ts';
import type { AuditRow, AuditStore, ImageRefund, NewAuditRow } from '../audit-store.ts';
import {
  type SqliteGenerationRow,
  sqliteGenerationColumns,
  sqliteImageRecord,
} from './sqlite-admin-report-store.ts';

interface StoredAuditRow {
  id: number;
  actor: string;
  action: string;
  target: string;
  before_json: string | null;
  after_json: string | null;
  created_at: string;
}

/** `AuditStore` on SQLite; the audited deletion is one IMMEDIATE transaction. */
export class SqliteAuditStore implements AuditStore {
  readonly #statements;
  readonly #quota: SqliteQuotaEngine;
  readonly #deleteImage;

  constructor(database: SqliteDatabase) {
    this.#quota = new SqliteQuotaEngine(database);
    this.#statements = {
      insert: database.prepare<[string, string, string, string | null, string | null, string], void>(
        'INSERT INTO admin_audit (actor, action, target, before_json, after_json, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      page: database.prepare<[number, number], StoredAuditRow>(
        'SELECT * FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?',
      ),
      deleteGeneration: database.prepare<[string], SqliteGenerationRow>(
        `DELETE FROM generations WHERE id = ? RETURNING ${sqliteGenerationColumns}`,
      ),
    };
    this.#deleteImage = database.transaction(
      (
        id: string,
        refundFor: ((image: AdminImageRecord) => ImageRefund) | undefined,
        auditFor: (image: AdminImageRecord) => NewAuditRow,
      ): AdminImageRecord | undefined => {
        const row = this.#statements.deleteGeneration.get(id);
        if (!row) return undefined;
        const image = sqliteImageRecord(row);
        if (refundFor) {
          const refund = refundFor(image);
          this.#quota.refund(refund.userId, refund.period, refund.charge);
        }
        this.#insert(auditFor(image));
        return image;
      },
    );
  }

  async append(row: NewAuditRow): Promise<void> {
    this.#insert(row);
  }

  async before(beforeId: number, limit: number): Promise<AuditRow[]> {
    return this.#statements.page.all(beforeId, limit).map((row) => ({
      id: row.id,
      actor: row.actor,
      action: row.action,
      target: row.target,
      beforeJson: row.before_json,
      afterJson: row.after_json,
      createdAt: row.created_at,
    }));
  }

  async deleteImage(
    id: string,
    change: {
      refundFor: ((image: AdminImageRecord) => ImageRefund) | undefined;
      auditFor: (image: AdminImageRecord) => NewAuditRow;
    },
  ): Promise<AdminImageRecord | undefined> {
    return this.#deleteImage.immediate(id, change.refundFor, change.auditFor);
  }

  #insert(row: NewAuditRow): void {
    this.#statements.insert.run(
      row.actor,
      row.action,
      row.target,
      row.beforeJson,
      row.afterJson,
      row.createdAt,
    );
  }
}
