import type { SqliteDatabase } from '../database/open-database.ts';
import type { JobStatus } from '../jobs/job-store.ts';
import { type PlanCatalog, resolvePlan } from '../quota/plans.ts';
import { decodeNumberCursor, encodeNumberCursor } from './audit-log.ts';

/** One day of a month: images recorded and what they cost. */
export interface DayTotals {
  date: string;
  images: number;
  costUsd: number;
}

/** How one model (or provider) did this month: images delivered and images its failed calls lost. */
export interface ServedTotals {
  images: number;
  failures: number;
  /** failures / (images + failures); 0 when it served nothing. */
  failureRate: number;
}

/** The month at a glance, for the console's overview. */
export interface AdminOverview {
  month: string;
  /** Images charged this month (the quota ledger's count). */
  images: number;
  /** Images held by generations still running. */
  reservedImages: number;
  /** Spending at list price (the ledger's budget counter). */
  costUsd: number;
  budgetUsd: number | undefined;
  /** Images recorded and their cost today, when `month` is the current month. */
  today: { images: number; costUsd: number } | undefined;
  days: DayTotals[];
  models: (ServedTotals & { model: string; provider: string })[];
  providers: (ServedTotals & { provider: string })[];
  topUsers: { userId: string; images: number }[];
  /** Discord servers and Slack workspaces with a shared cap, heaviest first. */
  topScopes: { scope: string; images: number }[];
}

/** A user as the console lists them. */
export interface AdminUser {
  userId: string;
  plan: string;
  linkedIdentities: string[];
  usedThisMonth: number;
  createdAt: string;
}

/** One user's month: images charged and what their recorded images cost. */
export interface UsageRow {
  userId: string;
  plan: string;
  images: number;
  costUsd: number;
}

/** A stored image as the console's gallery shows it. */
export interface AdminImage {
  id: string;
  userId: string;
  source: string;
  prompt: string;
  model: string;
  imageUrl: string;
  width: number;
  height: number;
  costUsd: number;
  createdAt: string;
}

/** A job still waiting or running. */
export interface AdminJob {
  id: string;
  userId: string;
  kind: string;
  source: string;
  status: 'queued' | 'running';
  model: string;
  /** Place in its user's line (1 = next); 0 while running. */
  position: number;
  ageSeconds: number;
  progress: number | undefined;
  createdAt: string;
}

/** A page of results with the cursor of the next one. */
export interface Page<Item> {
  items: Item[];
  nextCursor: string | undefined;
}

interface GenerationRow {
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

/** A stored image with what deleting it needs. */
export interface AdminImageRecord extends AdminImage {
  storageKey: string;
}

const userSubjectPrefix = 'user:';
const scopeSubjectPrefix = 'scope:';

/**
 * Read-only questions the operator console asks across every user. They scan whole tables for a month,
 * which is fine for an operator's page and keeps the request path free of indexes written only for them.
 */
export class AdminQueries {
  readonly #plans: PlanCatalog;
  readonly #providerOf: (modelId: string) => string;
  readonly #defaultModel: string;
  readonly #now: () => Date;
  readonly #statements;

  constructor(
    database: SqliteDatabase,
    options: {
      plans: PlanCatalog;
      /** The provider serving a model id (`unknown` for a model no longer configured). */
      providerOf: (modelId: string) => string;
      defaultModel: string;
      now?: () => Date;
    },
  ) {
    this.#plans = options.plans;
    this.#providerOf = options.providerOf;
    this.#defaultModel = options.defaultModel;
    this.#now = options.now ?? (() => new Date());
    this.#statements = {
      counterTotals: database.prepare<[string, string], { used: number | null; reserved: number | null }>(
        `SELECT SUM(used_images) AS used, SUM(reserved_images) AS reserved FROM quota_counters
         WHERE period = ? AND subject LIKE ? || '%'`,
      ),
      budget: database.prepare<[string], { spent_usd: number }>(
        "SELECT spent_usd FROM quota_counters WHERE subject = 'budget' AND period = ?",
      ),
      days: database.prepare<[string, string], { day: string; images: number; cost: number }>(
        `SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS images, SUM(cost_usd) AS cost
         FROM generations WHERE created_at >= ? AND created_at < ? GROUP BY day`,
      ),
      servedByModel: database.prepare<[string, string], { model: string; images: number }>(
        'SELECT model, COUNT(*) AS images FROM generations WHERE created_at >= ? AND created_at < ? GROUP BY model',
      ),
      failedByModel: database.prepare<[string, string], { model: string; provider: string; images: number }>(
        `SELECT model, provider, SUM(images) AS images FROM generation_failures
         WHERE created_at >= ? AND created_at < ? GROUP BY model, provider`,
      ),
      topSubjects: database.prepare<[string, string], { subject: string; used_images: number }>(
        `SELECT subject, used_images FROM quota_counters WHERE period = ? AND subject LIKE ? || '%'
           AND used_images > 0 ORDER BY used_images DESC, subject LIMIT 5`,
      ),
      users: database.prepare<
        [string, string, number],
        { id: string; plan: string | null; created_at: string; used: number | null }
      >(
        `SELECT users.id, users.plan, users.created_at, quota_counters.used_images AS used FROM users
         LEFT JOIN quota_counters ON quota_counters.subject = 'user:' || users.id AND quota_counters.period = ?
         WHERE users.id > ? ORDER BY users.id LIMIT ?`,
      ),
      usersMatching: database.prepare<
        [string, string, string, string, number],
        { id: string; plan: string | null; created_at: string; used: number | null }
      >(
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
        { user_id: string; plan: string | null; known: number | null; images: number; cost: number | null }
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
        GenerationRow
      >(
        `SELECT row_id, id, user_id, source, prompt, model, image_url, width, height, cost_usd, created_at, storage_key
         FROM generations WHERE (? IS NULL OR user_id = ?) AND (? IS NULL OR source = ?) AND row_id < ?
         ORDER BY row_id DESC LIMIT ?`,
      ),
      image: database.prepare<[string], GenerationRow>(
        `SELECT row_id, id, user_id, source, prompt, model, image_url, width, height, cost_usd, created_at, storage_key
         FROM generations WHERE id = ?`,
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

  /** The month's totals, per-day series, failures by model and provider, and heaviest users. */
  overview(month: string, budgetUsd: number | undefined): AdminOverview {
    const [from, to] = monthRange(month);
    const totals = this.#statements.counterTotals.get(month, userSubjectPrefix);
    const byDay = new Map(this.#statements.days.all(from, to).map((row) => [row.day, row]));
    const days: DayTotals[] = daysOf(month).map((date) => {
      const row = byDay.get(date);
      return { date, images: row?.images ?? 0, costUsd: roundUsd(row?.cost ?? 0) };
    });
    const today = this.#now().toISOString().slice(0, 10);
    const todayRow = today.startsWith(month) ? days.find((day) => day.date === today) : undefined;

    const models = new Map<string, { model: string; provider: string; images: number; failures: number }>();
    const entry = (model: string, provider: string) => {
      const key = `${model}\u0000${provider}`;
      let found = models.get(key);
      if (!found) {
        found = { model, provider, images: 0, failures: 0 };
        models.set(key, found);
      }
      return found;
    };
    for (const row of this.#statements.servedByModel.all(from, to)) {
      entry(row.model, this.#providerOf(row.model)).images += row.images;
    }
    for (const row of this.#statements.failedByModel.all(from, to)) {
      entry(row.model, row.provider).failures += row.images;
    }
    const providers = new Map<string, { provider: string; images: number; failures: number }>();
    for (const model of models.values()) {
      const provider = providers.get(model.provider) ?? { provider: model.provider, images: 0, failures: 0 };
      provider.images += model.images;
      provider.failures += model.failures;
      providers.set(model.provider, provider);
    }
    const withRate = <Totals extends { images: number; failures: number }>(totals: Totals) => ({
      ...totals,
      failureRate:
        totals.images + totals.failures === 0 ? 0 : totals.failures / (totals.images + totals.failures),
    });

    return {
      month,
      images: totals?.used ?? 0,
      reservedImages: totals?.reserved ?? 0,
      costUsd: roundUsd(this.#statements.budget.get(month)?.spent_usd ?? 0),
      budgetUsd,
      today: todayRow ? { images: todayRow.images, costUsd: todayRow.costUsd } : undefined,
      days,
      models: [...models.values()].sort(byImagesThenName((row) => row.model)).map(withRate),
      providers: [...providers.values()].sort(byImagesThenName((row) => row.provider)).map(withRate),
      topUsers: this.#statements.topSubjects.all(month, userSubjectPrefix).map((row) => ({
        userId: row.subject.slice(userSubjectPrefix.length),
        images: row.used_images,
      })),
      topScopes: this.#statements.topSubjects.all(month, scopeSubjectPrefix).map((row) => ({
        scope: row.subject.slice(scopeSubjectPrefix.length),
        images: row.used_images,
      })),
    };
  }

  /** The plans an operator may move a user to, as configured (PLAN_LIMITS on top of the defaults). */
  planNames(): string[] {
    return Object.keys(this.#plans.plans);
  }

  /** App accounts by uid, optionally those whose uid or a linked identity contains `query`. */
  users(page: { query: string; cursor: string | undefined; limit: number }): Page<AdminUser> {
    const month = this.#now().toISOString().slice(0, 7);
    const after = page.cursor === undefined ? '' : decodeTextCursor(page.cursor);
    const pattern = `%${page.query.replace(/[%_\\]/g, (character) => `\\${character}`)}%`;
    const rows =
      page.query === ''
        ? this.#statements.users.all(month, after, page.limit + 1)
        : this.#statements.usersMatching.all(month, after, pattern, pattern, page.limit + 1);
    const items = rows.slice(0, page.limit).map((row) => ({
      userId: row.id,
      plan: resolvePlan(this.#plans, row.plan ?? undefined).name,
      linkedIdentities: this.#statements.identities.all(row.id).map((identity) => identity.identity),
      usedThisMonth: row.used ?? 0,
      createdAt: row.created_at,
    }));
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > page.limit && last ? encodeTextCursor(last.userId) : undefined,
    };
  }

  /** One row per user who was charged anything in `month`, heaviest first. */
  usage(month: string): UsageRow[] {
    const [from, to] = monthRange(month);
    return this.#statements.usage.all(from, to, month, userSubjectPrefix).map((row) => ({
      userId: row.user_id,
      // A quota subject without an account is a chat identity that never linked: the guest plan pays.
      plan: resolvePlan(this.#plans, row.known ? (row.plan ?? undefined) : this.#plans.guestPlan).name,
      images: row.images,
      costUsd: roundUsd(row.cost ?? 0),
    }));
  }

  /** Every user's stored images, newest first. */
  images(page: {
    userId: string | undefined;
    source: string | undefined;
    cursor: string | undefined;
    limit: number;
  }): Page<AdminImage> {
    const before = page.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeNumberCursor(page.cursor);
    const user = page.userId ?? null;
    const source = page.source ?? null;
    const rows = this.#statements.images.all(user, user, source, source, before, page.limit + 1);
    const kept = rows.slice(0, page.limit);
    const last = kept.at(-1);
    return {
      items: kept.map((row) => imageOf(row)),
      nextCursor: rows.length > page.limit && last ? encodeNumberCursor(last.row_id) : undefined,
    };
  }

  /** One stored image by id, whoever it belongs to. */
  image(id: string): AdminImageRecord | undefined {
    const row = this.#statements.image.get(id);
    return row ? { ...imageOf(row), storageKey: row.storage_key } : undefined;
  }

  /** Jobs queued or running, oldest first, with each queued job's place in its user's line. */
  jobs(status: 'queued' | 'running' | undefined): AdminJob[] {
    const now = this.#now().getTime();
    const waiting = new Map<string, number>();
    const jobs: AdminJob[] = [];
    for (const row of this.#statements.unfinishedJobs.all()) {
      let position = 0;
      if (row.status === 'queued') {
        position = (waiting.get(row.user_id) ?? 0) + 1;
        waiting.set(row.user_id, position);
      }
      if (status !== undefined && row.status !== status) continue;
      jobs.push({
        id: row.id,
        userId: row.user_id,
        kind: row.kind,
        source: row.source,
        status: row.status,
        model: modelOf(row.request) ?? this.#defaultModel,
        position,
        ageSeconds: Math.max(0, Math.round((now - Date.parse(row.created_at)) / 1000)),
        progress: row.progress ?? undefined,
        createdAt: row.created_at,
      });
    }
    return jobs;
  }
}

/** The statuses `jobs()` can filter by. */
export const unfinishedJobStatuses = ['queued', 'running'] as const satisfies readonly JobStatus[];

function imageOf(row: GenerationRow): AdminImage {
  return {
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
  };
}

function modelOf(request: string): string | undefined {
  try {
    const parsed = JSON.parse(request) as { model?: unknown };
    return typeof parsed.model === 'string' ? parsed.model : undefined;
  } catch {
    return undefined;
  }
}

/** The ISO timestamps bounding a `YYYY-MM` month: [first instant, first instant of the next month). */
export function monthRange(month: string): [string, string] {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  return [
    new Date(Date.UTC(year, monthNumber - 1, 1)).toISOString(),
    new Date(Date.UTC(year, monthNumber, 1)).toISOString(),
  ];
}

function daysOf(month: string): string[] {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const count = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  return Array.from({ length: count }, (_, index) => `${month}-${String(index + 1).padStart(2, '0')}`);
}

function byImagesThenName<Row extends { images: number }>(name: (row: Row) => string) {
  return (left: Row, right: Row) => right.images - left.images || name(left).localeCompare(name(right));
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function encodeTextCursor(value: string): string {
  return Buffer.from(value).toString('base64url');
}

function decodeTextCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
