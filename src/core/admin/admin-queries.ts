import { validationError } from '../errors/imagine-error.ts';
import type { JobStatus } from '../jobs/job-store.ts';
import { type PlanCatalog, resolvePlan } from '../quota/plans.ts';
import { budgetSubject } from '../quota/quota-accounting.ts';
import type { AdminImage, AdminImageRecord, AdminReportStore, InstantRange } from './admin-report-store.ts';
import { scopeSubjectPrefix, userSubjectPrefix } from './admin-report-text.ts';
import { decodeNumberCursor, encodeNumberCursor } from './audit-log.ts';

export type { AdminImage, AdminImageRecord } from './admin-report-store.ts';

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

// How many of the heaviest users, and of the heaviest shared caps, the overview names.
const topCount = 5;

/**
 * Read-only questions the operator console asks across every user. The rules (plans resolved, days
 * without images filled in, failure rates, places in line, cursors) are here; the rows are the store's.
 */
export class AdminQueries {
  readonly #store: AdminReportStore;
  readonly #plans: PlanCatalog;
  readonly #providerOf: (modelId: string) => string;
  readonly #defaultModel: string;
  readonly #now: () => Date;

  constructor(
    store: AdminReportStore,
    options: {
      plans: PlanCatalog;
      /** The provider serving a model id (`unknown` for a model no longer configured). */
      providerOf: (modelId: string) => string;
      defaultModel: string;
      now?: () => Date;
    },
  ) {
    this.#store = store;
    this.#plans = options.plans;
    this.#providerOf = options.providerOf;
    this.#defaultModel = options.defaultModel;
    this.#now = options.now ?? (() => new Date());
  }

  /** The month's totals, per-day series, failures by model and provider, and heaviest users. */
  async overview(month: string, budgetUsd: number | undefined): Promise<AdminOverview> {
    const range = monthRange(month);
    const store = this.#store;
    const [totals, spentUsd, byDayRows, served, failed, topUsers, topScopes] = await Promise.all([
      store.counterTotals(month, userSubjectPrefix),
      store.spentUsd(budgetSubject, month),
      store.generationsByDay(range),
      store.generationsByModel(range),
      store.failuresByModel(range),
      store.topSubjects(month, userSubjectPrefix, topCount),
      store.topSubjects(month, scopeSubjectPrefix, topCount),
    ]);
    const byDay = new Map(byDayRows.map((row) => [row.day, row]));
    const days: DayTotals[] = daysOf(month).map((date) => {
      const row = byDay.get(date);
      return { date, images: row?.images ?? 0, costUsd: roundUsd(row?.costUsd ?? 0) };
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
    for (const row of served) entry(row.model, this.#providerOf(row.model)).images += row.images;
    for (const row of failed) entry(row.model, row.provider).failures += row.images;
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
      images: totals.used,
      reservedImages: totals.reserved,
      costUsd: roundUsd(spentUsd),
      budgetUsd,
      today: todayRow ? { images: todayRow.images, costUsd: todayRow.costUsd } : undefined,
      days,
      models: [...models.values()].sort(byImagesThenName((row) => row.model)).map(withRate),
      providers: [...providers.values()].sort(byImagesThenName((row) => row.provider)).map(withRate),
      topUsers: topUsers.map((row) => ({
        userId: row.subject.slice(userSubjectPrefix.length),
        images: row.images,
      })),
      topScopes: topScopes.map((row) => ({
        scope: row.subject.slice(scopeSubjectPrefix.length),
        images: row.images,
      })),
    };
  }

  /** The plans an operator may move a user to, as configured (PLAN_LIMITS on top of the defaults). */
  planNames(): string[] {
    return Object.keys(this.#plans.plans);
  }

  /** App accounts by uid, optionally those whose uid or a linked identity contains `query`. */
  async users(page: { query: string; cursor: string | undefined; limit: number }): Promise<Page<AdminUser>> {
    const rows = await this.#store.users({
      period: this.#now().toISOString().slice(0, 7),
      after: page.cursor === undefined ? '' : decodeTextCursor(page.cursor),
      contains: page.query === '' ? undefined : page.query,
      limit: page.limit + 1,
    });
    const items = rows.slice(0, page.limit).map((row) => ({
      userId: row.userId,
      plan: resolvePlan(this.#plans, row.plan ?? undefined).name,
      linkedIdentities: row.identities,
      usedThisMonth: row.used,
      createdAt: row.createdAt,
    }));
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > page.limit && last ? encodeTextCursor(last.userId) : undefined,
    };
  }

  /** One row per user who was charged anything in `month`, heaviest first. */
  async usage(month: string): Promise<UsageRow[]> {
    const rows = await this.#store.usage(month, monthRange(month));
    return rows.map((row) => ({
      userId: row.userId,
      // A quota subject without an account is a chat identity that never linked: the guest plan pays.
      plan: resolvePlan(this.#plans, row.known ? (row.plan ?? undefined) : this.#plans.guestPlan).name,
      images: row.images,
      costUsd: roundUsd(row.costUsd),
    }));
  }

  /** Every user's stored images, newest (last recorded) first. */
  async images(page: {
    userId: string | undefined;
    source: string | undefined;
    cursor: string | undefined;
    limit: number;
  }): Promise<Page<AdminImage>> {
    const rows = await this.#store.images({
      userId: page.userId,
      source: page.source,
      beforeRowId: page.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeNumberCursor(page.cursor),
      limit: page.limit + 1,
    });
    const kept = rows.slice(0, page.limit);
    const last = kept.at(-1);
    return {
      items: kept.map(shownImage),
      nextCursor: rows.length > page.limit && last ? encodeNumberCursor(last.rowId) : undefined,
    };
  }

  /** Jobs queued or running, oldest first, with each queued job's place in its user's line. */
  async jobs(status: 'queued' | 'running' | undefined): Promise<AdminJob[]> {
    const now = this.#now().getTime();
    const waiting = new Map<string, number>();
    const jobs: AdminJob[] = [];
    for (const row of await this.#store.unfinishedJobs()) {
      let position = 0;
      if (row.status === 'queued') {
        position = (waiting.get(row.userId) ?? 0) + 1;
        waiting.set(row.userId, position);
      }
      if (status !== undefined && row.status !== status) continue;
      jobs.push({
        id: row.id,
        userId: row.userId,
        kind: row.kind,
        source: row.source,
        status: row.status,
        model: modelOf(row.request) ?? this.#defaultModel,
        position,
        ageSeconds: Math.max(0, Math.round((now - Date.parse(row.createdAt)) / 1000)),
        progress: row.progress ?? undefined,
        createdAt: row.createdAt,
      });
    }
    return jobs;
  }
}

/** The statuses `jobs()` can filter by. */
export const unfinishedJobStatuses = ['queued', 'running'] as const satisfies readonly JobStatus[];

/** What the console shows of an image: the record without its storage key and row number. */
export function shownImage(record: AdminImageRecord): AdminImage {
  const { storageKey: _storageKey, rowId: _rowId, ...shown } = record;
  return shown;
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
export function monthRange(month: string): InstantRange {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  return {
    from: new Date(Date.UTC(year, monthNumber - 1, 1)).toISOString(),
    to: new Date(Date.UTC(year, monthNumber, 1)).toISOString(),
  };
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

// Marks the text as one of our cursors, so a made-up one that happens to decode is still told apart.
const textCursorMark = 'after:';

function encodeTextCursor(value: string): string {
  return Buffer.from(`${textCursorMark}${value}`).toString('base64url');
}

/** The text behind a cursor; a 422 naming `cursor` when it is not exactly one we handed out. */
function decodeTextCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const value = text.slice(textCursorMark.length);
  // Decoding skips characters outside base64url: encoding again must give the cursor back, byte for byte.
  if (!text.startsWith(textCursorMark) || encodeTextCursor(value) !== cursor) {
    throw validationError([{ field: 'cursor', message: 'not a cursor this API returned' }]);
  }
  return value;
}
