import type { Sql } from 'postgres';
import type { Queryable } from '../../database/postgres/queryable.ts';
import { refundCharge } from '../../quota/postgres/postgres-quota-store.ts';
import type { AdminImageRecord } from '../admin-report-store.ts';
import type { AuditRow, AuditStore, ImageRefund, NewAuditRow } from '../audit-store.ts';
import { type PostgresGenerationRow, postgresImageRecord } from './postgres-admin-report-store.ts';

interface StoredAuditRow {
  id: string;
  actor: string;
  action: string;
  target: string;
  before_json: string | null;
  after_json: string | null;
  created_at: Date;
}

/**
 * `AuditStore` on PostgreSQL. The audited deletion is one transaction whose `DELETE … RETURNING` is the
 * guard: a second deletion of the same image waits on the row's lock, then finds nothing to delete.
 */
export class PostgresAuditStore implements AuditStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async append(row: NewAuditRow): Promise<void> {
    await insertAuditRow(this.#sql, row);
  }

  async before(beforeId: number, limit: number): Promise<AuditRow[]> {
    const rows = await this.#sql<StoredAuditRow[]>`
      SELECT id, actor, action, target, before_json, after_json, created_at FROM admin_audit
      WHERE id < ${beforeId} ORDER BY id DESC LIMIT ${limit}`;
    return rows.map((row) => ({
      id: Number(row.id),
      actor: row.actor,
      action: row.action,
      target: row.target,
      beforeJson: row.before_json,
      afterJson: row.after_json,
      createdAt: row.created_at.toISOString(),
    }));
  }

  async deleteImage(
    id: string,
    change: {
      refundFor: ((image: AdminImageRecord) => ImageRefund) | undefined;
      auditFor: (image: AdminImageRecord) => NewAuditRow;
    },
  ): Promise<AdminImageRecord | undefined> {
    return this.#sql.begin(async (sql) => {
      const [row] = await sql<PostgresGenerationRow[]>`
        DELETE FROM generations WHERE id = ${id}
        RETURNING row_id, id, user_id, source, prompt, model, image_url, width, height, cost_usd, created_at,
          storage_key`;
      if (!row) return undefined;
      const image = postgresImageRecord(row);
      if (change.refundFor) {
        const refund = change.refundFor(image);
        await refundCharge(sql, refund.userId, refund.period, refund.charge);
      }
      await insertAuditRow(sql, change.auditFor(image));
      return image;
    });
  }
}

async function insertAuditRow(sql: Queryable, row: NewAuditRow): Promise<void> {
  await sql`
    INSERT INTO admin_audit (actor, action, target, before_json, after_json, created_at)
    VALUES (${row.actor}, ${row.action}, ${row.target}, ${row.beforeJson}, ${row.afterJson}, ${row.createdAt})`;
}
