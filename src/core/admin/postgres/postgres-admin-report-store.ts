import type { Sql } from 'postgres';
import type {
  AdminImageRecord,
  AdminReportStore,
  InstantRange,
  UnfinishedJobRow,
  UsageReportRow,
  UserReportRow,
} from '../admin-report-store.ts';
import { asciiLowercase, likePatternContaining, userSubjectPrefix } from '../admin-report-text.ts';

/** A generations row as the console reads it; `row_id` is a bigint, which the driver gives as text. */
export interface PostgresGenerationRow {
  row_id: string;
  id: string;
  user_id: string;
  source: string;
  prompt: string;
  model: string;
  image_url: string;
  width: number;
  height: number;
  cost_usd: number;
  created_at: Date;
  storage_key: string;
}

const upperAscii = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const lowerAscii = 'abcdefghijklmnopqrstuvwxyz';

/**
 * `AdminReportStore` on PostgreSQL. Each report is one statement. Month ranges are on `created_at`
 * (`generations_by_time`, `generation_failures_by_time`), the image listing walks the primary key
 * backwards (or a user's rows by `generations_by_user`), users are walked in byte order by
 * `users_by_id_bytes` and a month's counters read by `quota_counters_by_period` (both migration 5), so a
 * page costs its rows, not the table. Texts compare under
 * `COLLATE "C"`, SQLite's byte order, whatever the database's collation; aggregates are cast to float8,
 * which the driver reads as a number (a bigint would come back as text).
 */
export class PostgresAdminReportStore implements AdminReportStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async counterTotals(period: string, prefix: string): Promise<{ used: number; reserved: number }> {
    const sql = this.#sql;
    const [row] = await sql<{ used: number; reserved: number }[]>`
      SELECT COALESCE(SUM(used_images), 0)::float8 AS used, COALESCE(SUM(reserved_images), 0)::float8 AS reserved
      FROM quota_counters WHERE period = ${period} AND ${startsWith(sql, prefix)}`;
    return { used: row?.used ?? 0, reserved: row?.reserved ?? 0 };
  }

  async spentUsd(subject: string, period: string): Promise<number> {
    const [row] = await this.#sql<{ spent_usd: number }[]>`
      SELECT spent_usd FROM quota_counters WHERE subject = ${subject} AND period = ${period}`;
    return row?.spent_usd ?? 0;
  }

  async generationsByDay(range: InstantRange): Promise<{ day: string; images: number; costUsd: number }[]> {
    return this.#sql<{ day: string; images: number; costUsd: number }[]>`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*)::float8 AS images,
        SUM(cost_usd) AS "costUsd"
      FROM generations WHERE created_at >= ${range.from} AND created_at < ${range.to}
      GROUP BY day ORDER BY day`;
  }

  async generationsByModel(range: InstantRange): Promise<{ model: string; images: number }[]> {
    return this.#sql<{ model: string; images: number }[]>`
      SELECT model, COUNT(*)::float8 AS images FROM generations
      WHERE created_at >= ${range.from} AND created_at < ${range.to}
      GROUP BY model ORDER BY model COLLATE "C"`;
  }

  async failuresByModel(range: InstantRange): Promise<{ model: string; provider: string; images: number }[]> {
    return this.#sql<{ model: string; provider: string; images: number }[]>`
      SELECT model, provider, SUM(images)::float8 AS images FROM generation_failures
      WHERE created_at >= ${range.from} AND created_at < ${range.to}
      GROUP BY model, provider ORDER BY model COLLATE "C", provider COLLATE "C"`;
  }

  async topSubjects(
    period: string,
    prefix: string,
    limit: number,
  ): Promise<{ subject: string; images: number }[]> {
    const sql = this.#sql;
    return sql<{ subject: string; images: number }[]>`
      SELECT subject, used_images AS images FROM quota_counters
      WHERE period = ${period} AND ${startsWith(sql, prefix)} AND used_images > 0
      ORDER BY used_images DESC, subject COLLATE "C" LIMIT ${limit}`;
  }

  async users(page: {
    period: string;
    after: string;
    contains: string | undefined;
    limit: number;
  }): Promise<UserReportRow[]> {
    const sql = this.#sql;
    // SQLite's LIKE folds ASCII letters and nothing else; translate() folds exactly those here.
    const pattern =
      page.contains === undefined ? undefined : asciiLowercase(likePatternContaining(page.contains));
    const matching =
      pattern === undefined
        ? sql``
        : sql`AND (translate(users.id, ${upperAscii}, ${lowerAscii}) LIKE ${pattern} ESCAPE '\\'
            OR users.id IN (SELECT user_id FROM identities
                            WHERE translate(identity, ${upperAscii}, ${lowerAscii}) LIKE ${pattern} ESCAPE '\\'))`;
    const rows = await sql<
      { id: string; plan: string | null; created_at: Date; used: number | null; identities: string[] }[]
    >`
      SELECT users.id, users.plan, users.created_at, quota_counters.used_images AS used,
        ARRAY(SELECT identity FROM identities WHERE identities.user_id = users.id
              ORDER BY identity COLLATE "C") AS identities
      FROM users
      LEFT JOIN quota_counters ON quota_counters.subject = ${userSubjectPrefix} || users.id
        AND quota_counters.period = ${page.period}
      WHERE users.id COLLATE "C" > ${page.after} ${matching}
      ORDER BY users.id COLLATE "C" LIMIT ${page.limit}`;
    return rows.map((row) => ({
      userId: row.id,
      plan: row.plan,
      createdAt: row.created_at.toISOString(),
      used: row.used ?? 0,
      identities: row.identities,
    }));
  }

  async usage(period: string, range: InstantRange): Promise<UsageReportRow[]> {
    const sql = this.#sql;
    const rows = await sql<
      { user_id: string; plan: string | null; known: boolean; images: number; cost: number | null }[]
    >`
      SELECT counters.user_id, users.plan, users.id IS NOT NULL AS known, counters.used_images AS images,
        spent.cost
      FROM (SELECT substr(subject, ${userSubjectPrefix.length + 1}) AS user_id, used_images FROM quota_counters
            WHERE period = ${period} AND ${startsWith(sql, userSubjectPrefix)} AND used_images > 0) AS counters
      LEFT JOIN users ON users.id = counters.user_id
      LEFT JOIN (SELECT user_id, SUM(cost_usd) AS cost FROM generations
                 WHERE created_at >= ${range.from} AND created_at < ${range.to} GROUP BY user_id) AS spent
        ON spent.user_id = counters.user_id
      ORDER BY counters.used_images DESC, counters.user_id COLLATE "C"`;
    return rows.map((row) => ({
      userId: row.user_id,
      plan: row.plan,
      known: row.known,
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
    const sql = this.#sql;
    // Conditions only where a filter is given, so the plan is the index walk it can be, not a catch-all.
    const rows = await sql<PostgresGenerationRow[]>`
      SELECT row_id, id, user_id, source, prompt, model, image_url, width, height, cost_usd, created_at,
        storage_key
      FROM generations WHERE row_id < ${page.beforeRowId}
        ${page.userId === undefined ? sql`` : sql`AND user_id = ${page.userId}`}
        ${page.source === undefined ? sql`` : sql`AND source = ${page.source}`}
      ORDER BY row_id DESC LIMIT ${page.limit}`;
    return rows.map(postgresImageRecord);
  }

  async unfinishedJobs(): Promise<UnfinishedJobRow[]> {
    const rows = await this.#sql<
      {
        id: string;
        user_id: string;
        kind: string;
        source: string;
        status: 'queued' | 'running';
        request: string;
        progress: number | null;
        created_at: Date;
      }[]
    >`
      SELECT id, user_id, kind, source, status, request, progress, created_at FROM jobs
      WHERE status IN ('queued', 'running') ORDER BY id COLLATE "C"`;
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      kind: row.kind,
      source: row.source,
      status: row.status,
      request: row.request,
      progress: row.progress,
      createdAt: row.created_at.toISOString(),
    }));
  }
}

/**
 * `subject` starts with `prefix`, as a range in byte order, which `quota_counters_by_period` serves (a LIKE
 * pattern in a parameter would not be, once the plan is generic). `prefix` ends in an ASCII character.
 */
function startsWith(sql: Sql, prefix: string) {
  const past = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
  return sql`subject COLLATE "C" >= ${prefix} AND subject COLLATE "C" < ${past}`;
}

/** A generations row as the console sees it. */
export function postgresImageRecord(row: PostgresGenerationRow): AdminImageRecord {
  return {
    rowId: Number(row.row_id),
    id: row.id,
    userId: row.user_id,
    source: row.source,
    prompt: row.prompt,
    model: row.model,
    imageUrl: row.image_url,
    width: row.width,
    height: row.height,
    costUsd: row.cost_usd,
    createdAt: row.created_at.toISOString(),
    storageKey: row.storage_key,
  };
}
