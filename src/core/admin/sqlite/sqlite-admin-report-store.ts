import type { SqliteDatabase } from '../../database/open-database.ts';
import type {
  AdminImageRecord,
  AdminReportStore,
  InstantRange,
  UnfinishedJobRow,
  UsageReportRow,
  UserReportRow,
} from '../admin-report-store.ts';
import { likePatternContaining, userSubjectPrefix } from '../admin-report-text.ts';

/** A generations row as the console reads it. */
export interface SqliteGenerationRow {
  row_id: number;
  id: string;
  user_id: string;
  source: string;
  prompt: string;
  model: string;
  image_url: string;
  width: number;
  height: number;
  cost_usd: number;
  created_at: string;
  storage_key: string;
}

type UserRow = { id: string; plan: string | null; created_at: string; used: number | null };

export const sqliteGenerationColumns =
  'row_id, id, user_id, source, prompt, model, image_url, width, height, cost_usd, created_at, storage_key';

/**
 * `AdminReportStore` on SQLite. The month's reports scan whole tables, which is fine for an operator's page
 * and keeps the request path free of indexes written only for them; the image listing walks the rowid.
 */
export class SqliteAdminReportStore implements AdminReportStore {
  readonly #statements;

  constructor(database: SqliteDatabase) {
    this.#statements = {
      counterTotals: database.prepare<[string, string], { used: number | null; reserved: number | null }>(
        `SELECT SUM(used_images) AS used, SUM(reserved_images) AS reserved FROM quota_counters
         WHERE period = ? AND subject LIKE ? || '%'`,
      ),
      spent: database.prepare<[string, string], { spent_usd: number }>(
        'SELECT spent_usd FROM quota_counters WHERE subject = ? AND period = ?',
      ),
      days: database.prepare<[string, string], { day: string; images: number; cost: number }>(
        `SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS images, SUM(cost_usd) AS cost
         FROM generations WHERE created_at >= ? AND created_at < ? GROUP BY day ORDER BY day`,
      ),
      servedByModel: database.prepare<[string, string], { model: string; images: number }>(
        `SELECT model, COUNT(*) AS images FROM generations WHERE created_at >= ? AND created_at < ?
         GROUP BY model ORDER BY model`,
      ),
      failedByModel: database.prepare<[string, string], { model: string; provider: string; images: number }>(
        `SELECT model, provider, SUM(images) AS images FROM generation_failures
         WHERE created_at >= ? AND created_at < ? GROUP BY model, provider ORDER BY model, provider`,
      ),
      topSubjects: database.prepare<[string, string, number], { subject: string; used_images: number }>(
        `SELECT subject, used_images FROM quota_counters WHERE period = ? AND subject LIKE ? || '%'
           AND used_images > 0 ORDER BY used_images DESC, subject LIMIT ?`,
      ),
      users: database.prepare<[string, string, number], UserRow>(
        `SELECT users.id, users.plan, users.created_at, quota_counters.used_images AS used FROM users
         LEFT JOIN quota_counters ON quota_counters.subject = 'user:' || users.id AND quota_counters.period = ?
         WHERE users.id > ? ORDER BY users.id LIMIT ?`,
      ),
      // LIKE folds ASCII letters only; the PostgreSQL store folds the same way.
      usersMatching: database.prepare<[string, string, string, string, number], UserRow>(
        `SELECT users.id, users.plan, users.created_at, quota_counters.used_images AS used FROM users
         LEFT JOIN quota_counters ON quota_counters.subject = 'user:' || users.id AND quota_counters.period = ?
         WHERE users.id > ? AND (users.id LIKE ? ESCAPE '\\'
           OR users.id IN (SELECT user_id FROM identities WHERE identity LIKE ? ESCAPE '\\'))
         ORDER BY users.id LIMIT ?`,
      ),
      identities: database.prepare<[string], { identity: string }>(
        'SELECT identity FROM identities WHERE user_id = ? ORDER BY identity',
      ),
      usage: database.prepare<
        [string, string, string, string],
        { user_id: string; plan: string | null; known: number; images: number; cost: number | null }
      >(
        `SELECT substr(quota_counters.subject, 6) AS user_id, users.plan, users.id IS NOT NULL AS known,
           quota_counters.used_images AS images, spent.cost
         FROM quota_counters
         LEFT JOIN users ON users.id = substr(quota_counters.subject, 6)
         LEFT JOIN (SELECT user_id, SUM(cost_usd) AS cost FROM generations
                    WHERE created_at >= ? AND created_at < ? GROUP BY user_id) AS spent
           ON spent.user_id = substr(quota_counters.subject, 6)
         WHERE quota_counters.period = ? AND quota_counters.subject LIKE ? || '%' AND quota_counters.used_images > 0
         ORDER BY quota_counters.used_images DESC, user_id`,
      ),
      images: database.prepare<
        [string | null, string | null, string | null, string | null, number, number],
        SqliteGenerationRow
      >(
        `SELECT ${sqliteGenerationColumns} FROM generations
         WHERE (? IS NULL OR user_id = ?) AND (? IS NULL OR source = ?) AND row_id < ?
         ORDER BY row_id DESC LIMIT ?`,
      ),
      unfinishedJobs: database.prepare<
        [],
        {
          id: string;
          user_id: string;
          kind: string;
          source: string;
          status: 'queued' | 'running';
          request: string;
          progress: number | null;
          created_at: string;
        }
      >(
        `SELECT id, user_id, kind, source, status, request, progress, created_at FROM jobs
         WHERE status IN ('queued', 'running') ORDER BY id`,
      ),
    };
  }

  async counterTotals(period: string, prefix: string): Promise<{ used: number; reserved: number }> {
    const row = this.#statements.counterTotals.get(period, prefix);
    return { used: row?.used ?? 0, reserved: row?.reserved ?? 0 };
  }

  async spentUsd(subject: string, period: string): Promise<number> {
    return this.#statements.spent.get(subject, period)?.spent_usd ?? 0;
  }

  async generationsByDay(range: InstantRange): Promise<{ day: string; images: number; costUsd: number }[]> {
    return this.#statements.days
      .all(range.from, range.to)
      .map((row) => ({ day: row.day, images: row.images, costUsd: row.cost }));
  }

  async generationsByModel(range: InstantRange): Promise<{ model: string; images: number }[]> {
    return this.#statements.servedByModel.all(range.from, range.to);
  }

  async failuresByModel(range: InstantRange): Promise<{ model: string; provider: string; images: number }[]> {
    return this.#statements.failedByModel.all(range.from, range.to);
  }

  async topSubjects(
    period: string,
    prefix: string,
    limit: number,
  ): Promise<{ subject: string; images: number }[]> {
    return this.#statements.topSubjects
      .all(period, prefix, limit)
      .map((row) => ({ subject: row.subject, images: row.used_images }));
  }

  async users(page: {
    period: string;
    after: string;
    contains: string | undefined;
    limit: number;
  }): Promise<UserReportRow[]> {
    const rows =
      page.contains === undefined
        ? this.#statements.users.all(page.period, page.after, page.limit)
        : this.#statements.usersMatching.all(
            page.period,
            page.after,
            likePatternContaining(page.contains),
            likePatternContaining(page.contains),
            page.limit,
          );
    return rows.map((row) => ({
      userId: row.id,
      plan: row.plan,
      createdAt: row.created_at,
      used: row.used ?? 0,
      identities: this.#statements.identities.all(row.id).map((identity) => identity.identity),
    }));
  }

  async usage(period: string, range: InstantRange): Promise<UsageReportRow[]> {
    return this.#statements.usage.all(range.from, range.to, period, userSubjectPrefix).map((row) => ({
      userId: row.user_id,
      plan: row.plan,
      known: row.known === 1,
      images: row.images,
      costUsd: row.cost ?? 0,
    }));
  }

  async images(page: {
    userId: string | undefined;
    source: string | undefined;
    beforeRowId: number;
    limit: number;
  }): Promise<AdminImageRecord[]> {
    const user = page.userId ?? null;
    const source = page.source ?? null;
    return this.#statements.images
      .all(user, user, source, source, page.beforeRowId, page.limit)
      .map(sqliteImageRecord);
  }

  async unfinishedJobs(): Promise<UnfinishedJobRow[]> {
    return this.#statements.unfinishedJobs.all().map((row) => ({
      id: row.id,
      userId: row.user_id,
      kind: row.kind,
      source: row.source,
      status: row.status,
      request: row.request,
      progress: row.progress,
      createdAt: row.created_at,
    }));
  }
}

/** A generations row as the console sees it. */
export function sqliteImageRecord(row: SqliteGenerationRow): AdminImageRecord {
  return {
    rowId: row.row_id,
    id: row.id,
    userId: row.user_id,
    source: row.source,
    prompt: row.prompt,
    model: row.model,
    imageUrl: row.image_url,
    width: row.width,
    height: row.height,
    costUsd: row.cost_usd,
    createdAt: row.created_at,
    storageKey: row.storage_key,
  };
}
