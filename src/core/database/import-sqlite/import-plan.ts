import { billingPeriod } from '../../quota/billing-period.ts';
import { dayPeriod } from '../../quota/quota-accounting.ts';

/** A table `db import-sqlite` copies, row for row and column by name. */
export interface CopiedTable {
  name: string;
  /** Which rows, when not all: an SQLite condition and its parameters, decided at the import's instant. */
  rows?: ((now: Date) => { where: string; parameters: unknown[] }) | undefined;
  /** Columns written with a fixed value instead of SQLite's. */
  replace?: Readonly<Record<string, unknown>> | undefined;
  /** What is left out or changed, and why, for the report. */
  note?: string | undefined;
}

/** A table `db import-sqlite` deliberately leaves behind, and why. */
export interface SkippedTable {
  name: string;
  reason: string;
}

/**
 * Every SQLite table, in an order that satisfies PostgreSQL's foreign keys (users before what names them).
 * A table added to SQLite must be listed here or in `skippedTables`: the import refuses a file with a table
 * it does not know, and a test enumerates today's tables.
 */
export const copiedTables: readonly CopiedTable[] = [
  { name: 'users' },
  { name: 'identities' },
  { name: 'api_keys' },
  { name: 'link_codes' },
  {
    name: 'quota_counters',
    // Limits count this month (and today, for a daily allowance); earlier periods are never read again.
    rows: (now) => ({
      where: 'period IN (?, ?)',
      parameters: [billingPeriod(now), dayPeriod(now)],
    }),
    // The holds are not copied (see reservations), so what they held is given back with them.
    replace: { reserved_images: 0, reserved_usd: 0 },
    note: "this month's and today's counters; holds in flight given back",
  },
  { name: 'generations' },
  { name: 'jobs' },
  { name: 'idempotency_keys' },
  { name: 'processed_events' },
  { name: 'personal_settings' },
  { name: 'chat_cooldowns' },
  { name: 'chat_blocks' },
  { name: 'admin_actions' },
  { name: 'admin_audit' },
  { name: 'generation_failures' },
];

/**
 * PostgreSQL's own tables, with no SQLite counterpart: `account_changes` is the change counter its
 * triggers keep so every process drops cached keys and plans (SQLite reads its file's `data_version`).
 */
export const postgresOnlyTables: readonly string[] = ['account_changes'];

/** The SQLite tables an import leaves behind on purpose, each with the reason the report prints. */
export const skippedTables: readonly SkippedTable[] = [
  {
    name: 'reservations',
    reason:
      'holds of generations in flight: the SQLite service is stopped, so their process is gone and what they ' +
      'held is given back; an image such a generation may have stored stays in storage, unrecorded',
  },
  { name: 'console_sessions', reason: 'console sign-ins expire within hours; admins sign in again' },
  { name: 'health_probe', reason: 'rewritten by every /health check' },
  { name: 'schema_migrations', reason: "each engine records its own migrations; PostgreSQL's were applied" },
];

/** Tables in the target that may hold a row and still count as empty: the service writes them on its own. */
export const tablesAnEmptyTargetMayFill: readonly string[] = ['schema_migrations', 'health_probe'];
