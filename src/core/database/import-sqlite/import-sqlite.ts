import type { Sql, TransactionSql } from 'postgres';
import type { SqliteDatabase } from '../open-database.ts';
import { applyPostgresMigrations } from '../postgres/apply-postgres-migrations.ts';
import { type CopiedTable, copiedTables, skippedTables, tablesAnEmptyTargetMayFill } from './import-plan.ts';
import { openSqliteSource, sqliteFileVersion } from './open-sqlite-source.ts';
import { SqliteImportError } from './sqlite-import-error.ts';

/** What to copy where. */
export interface SqliteImportOptions {
  /** imagine's SQLite database (`DATA_DIR/imagine.sqlite`); it is only read. */
  file: string;
  /** A pool on the PostgreSQL database to fill; migrated here once it is found empty. */
  sql: Sql;
  /** The import's instant: which month's and day's quota counters are current. */
  now?: (() => Date) | undefined;
  /** Rows per INSERT (default 1000). */
  batchRows?: number | undefined;
  onProgress?: ((progress: SqliteImportProgress) => void) | undefined;
}

/** Told as the import goes: a migrated copy being made, then each table's rows, batch by batch. */
export type SqliteImportProgress =
  | { kind: 'migrating-copy'; file: string; from: number; to: number }
  | { kind: 'copying'; table: string; copied: number; total: number };

/** A table copied: its rows in SQLite, how many were selected, and PostgreSQL's count after the copy. */
export interface CopiedTableReport {
  name: string;
  /** Every row the SQLite table has. */
  sqliteRows: number;
  /** Rows selected for copying (all, unless the table copies only some). */
  selectedRows: number;
  /** `count(*)` in PostgreSQL after the copy, inside the import's transaction; equal to `selectedRows`. */
  postgresRows: number;
  note: string | undefined;
}

/** What the import did. */
export interface SqliteImportReport {
  /** The file's SQLite schema version; a migrated copy was read when it was older than today's. */
  fileVersion: number;
  migratedCopy: boolean;
  copied: CopiedTableReport[];
  skipped: { name: string; rows: number; reason: string }[];
}

const defaultBatchRows = 1000;
// Any constant: two imports into one database at once queue here, and the second finds the first's rows.
const importLockKey = 0x696d7074; // "impt"

/**
 * Copies an imagine SQLite database into an empty PostgreSQL database, in ONE transaction: a failure at any
 * row leaves PostgreSQL without a row of the import. Rows are read from one SQLite snapshot and written in
 * multi-row INSERTs of `batchRows`, so no table is ever held in memory. Every value crosses as text and is
 * parsed by PostgreSQL's own input functions (ISO timestamps into timestamptz, 0/1 into boolean), so what
 * was stored comes back exactly. Ids are kept and each identity sequence moved past them; each table's count
 * is checked before the transaction commits.
 *
 * Refuses (`SqliteImportError`, nothing written) a target that has any row, a file with jobs still queued or
 * running (the SQLite service must be stopped with its work done), and a file whose tables or columns this
 * code does not know.
 */
export async function importSqlite(options: SqliteImportOptions): Promise<SqliteImportReport> {
  const { sql } = options;
  const now = (options.now ?? (() => new Date()))();
  const onProgress = options.onProgress ?? (() => {});
  // The file first (a quick look), then the target before anything is migrated or copied: a database
  // holding someone else's rows is left exactly as it is.
  sqliteFileVersion(options.file);
  await refuseUnlessEmpty(sql);
  const source = await openSqliteSource(options.file, (copy) =>
    onProgress({ kind: 'migrating-copy', ...copy }),
  );
  try {
    // One read transaction: every table and every count comes from the same snapshot of the file.
    source.database.exec('BEGIN');
    try {
      const plan = planImport(source.database, options.file, now);
      await applyPostgresMigrations(sql);
      const targetTypes = await columnTypes(sql, plan);
      const copied = await sql.begin(async (transaction) => {
        await transaction`SELECT pg_advisory_xact_lock(${importLockKey})`;
        await refuseUnlessEmpty(transaction);
        for (const table of plan.copied) {
          await copyTable(transaction, source.database, table, targetTypes, options.batchRows, onProgress);
        }
        await moveIdentitySequences(
          transaction,
          plan.copied.map((table) => table.name),
        );
        return checkCounts(transaction, plan.copied);
      });
      return {
        fileVersion: source.fileVersion,
        migratedCopy: source.migratedCopy !== undefined,
        copied,
        skipped: plan.skipped,
      };
    } finally {
      source.database.exec('COMMIT');
    }
  } finally {
    source.close();
  }
}

/** A copied table with its SQLite columns, the rows selected and how many there are. */
interface PlannedTable {
  name: string;
  columns: string[];
  where: string;
  parameters: unknown[];
  replace: Readonly<Record<string, unknown>>;
  sqliteRows: number;
  selectedRows: number;
  note: string | undefined;
}

interface ImportPlan {
  copied: PlannedTable[];
  skipped: { name: string; rows: number; reason: string }[];
}

/** Reads what the file holds and refuses what an import cannot carry over. */
function planImport(database: SqliteDatabase, file: string, now: Date): ImportPlan {
  const tables = sqliteTables(database);
  const known = new Set([...copiedTables, ...skippedTables].map((table) => table.name));
  const unknown = tables.filter((table) => !known.has(table));
  if (unknown.length > 0) {
    throw new SqliteImportError(
      'schema_mismatch',
      `${file} has tables this import does not know (${unknown.join(', ')}): nothing was copied. ` +
        'Import with the imagine version that made the file.',
    );
  }
  refuseUnfinishedJobs(database, file);
  const present = new Set(tables);
  return {
    copied: copiedTables
      .filter((table) => present.has(table.name))
      .map((table) => planTable(database, table, now)),
    skipped: skippedTables
      .filter((table) => present.has(table.name))
      .map((table) => ({
        name: table.name,
        rows: countRows(database, table.name, '1', []),
        reason: table.reason,
      })),
  };
}

function planTable(database: SqliteDatabase, table: CopiedTable, now: Date): PlannedTable {
  const selection = table.rows?.(now) ?? { where: '1', parameters: [] };
  return {
    name: table.name,
    columns: database
      .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid')
      .all(table.name)
      .map((column) => column.name),
    where: selection.where,
    parameters: selection.parameters,
    replace: table.replace ?? {},
    sqliteRows: countRows(database, table.name, '1', []),
    selectedRows: countRows(database, table.name, selection.where, selection.parameters),
    note: table.note,
  };
}

/** The file's own tables (not SQLite's internal ones, such as sqlite_sequence). */
export function sqliteTables(database: SqliteDatabase): string[] {
  return database
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .all()
    .map((table) => table.name);
}

function countRows(database: SqliteDatabase, table: string, where: string, parameters: unknown[]): number {
  const row = database
    .prepare<unknown[], { count: number }>(`SELECT count(*) AS count FROM ${quoted(table)} WHERE ${where}`)
    .get(...parameters);
  return row?.count ?? 0;
}

/**
 * A queued or running job belongs to a process that was running it: its provider call may still deliver,
 * and recovery on SQLite would resume or fail it and give its quota back. Copying it would lose that, so
 * the import asks for the service to be stopped with its work done instead.
 */
function refuseUnfinishedJobs(database: SqliteDatabase, file: string): void {
  const row = database
    .prepare<[], { count: number }>(
      "SELECT count(*) AS count FROM jobs WHERE status IN ('queued', 'running')",
    )
    .get();
  const count = row?.count ?? 0;
  if (count === 0) return;
  throw new SqliteImportError(
    'unfinished_jobs',
    `${count} job${count === 1 ? ' is' : 's are'} still queued or running in ${file}: an import needs the ` +
      'SQLite service stopped with its work done, so nothing was copied. Start imagine on this file again ' +
      '(without DATABASE_URL) and let it finish or recover them, stop it, then import.',
  );
}

/** What PostgreSQL's table and column types are, checked against SQLite's columns. */
type ColumnTypes = Map<string, Map<string, string>>;

async function columnTypes(sql: Sql, plan: ImportPlan): Promise<ColumnTypes> {
  const rows = await sql<{ table_name: string; column_name: string; data_type: string }[]>`
    SELECT table_name, column_name, data_type FROM information_schema.columns
    WHERE table_schema = current_schema()`;
  const types: ColumnTypes = new Map();
  for (const row of rows) {
    const table = types.get(row.table_name) ?? new Map<string, string>();
    table.set(row.column_name, row.data_type);
    types.set(row.table_name, table);
  }
  for (const table of plan.copied) {
    const target = types.get(table.name);
    const missing = table.columns.filter((column) => !target?.has(column));
    if (missing.length > 0) {
      throw new SqliteImportError(
        'schema_mismatch',
        `PostgreSQL's ${table.name} table ${target ? `has no column ${missing.join(', ')}` : 'does not exist'}, ` +
          "which SQLite's has: this imagine's PostgreSQL migrations are behind its SQLite ones. Nothing was copied.",
      );
    }
  }
  return types;
}

/** Copies one table in multi-row INSERTs of `batchRows`, reading SQLite row by row. */
async function copyTable(
  transaction: TransactionSql,
  database: SqliteDatabase,
  table: PlannedTable,
  targetTypes: ColumnTypes,
  batchRows: number | undefined,
  onProgress: (progress: SqliteImportProgress) => void,
): Promise<void> {
  const types = table.columns.map((column) => targetTypes.get(table.name)?.get(column) ?? 'text');
  const rowsPerInsert = Math.max(1, batchRows ?? defaultBatchRows);
  const insert = insertStatement(table, types);
  const read = database
    .prepare(`SELECT ${table.columns.map(quoted).join(', ')} FROM ${quoted(table.name)} WHERE ${table.where}`)
    .raw(true)
    // Integers as BigInt: a 64-bit value (a seed) is copied digit for digit, never rounded to a double.
    .safeIntegers(true);
  const replaced = table.columns.map((column) =>
    Object.hasOwn(table.replace, column) ? table.replace[column] : undefined,
  );
  const emptyBatch = () => table.columns.map((): (string | null)[] => []);
  let batch = emptyBatch();
  let rows = 0;
  let copied = 0;
  const flush = async () => {
    if (rows === 0) return;
    try {
      await transaction.unsafe(insert, batch, { prepare: true });
    } catch (error) {
      throw copyFailed(table.name, error);
    }
    copied += rows;
    rows = 0;
    batch = emptyBatch();
    onProgress({ kind: 'copying', table: table.name, copied, total: table.selectedRows });
  };
  onProgress({ kind: 'copying', table: table.name, copied: 0, total: table.selectedRows });
  for (const values of read.iterate(...table.parameters) as IterableIterator<unknown[]>) {
    for (let index = 0; index < table.columns.length; index++) {
      const value = replaced[index] !== undefined ? replaced[index] : values[index];
      batch[index]?.push(
        asPostgresText(value, types[index] ?? 'text', table.name, table.columns[index] ?? ''),
      );
    }
    rows++;
    if (rows >= rowsPerInsert) await flush();
  }
  await flush();
}

/**
 * `INSERT INTO t (a, b) SELECT a::integer, b::boolean FROM unnest($1::text[], $2::text[]) AS u (a, b)`: a
 * batch is one text array per column, so the statement is the same for every batch (prepared once) and
 * binds as many parameters as the table has columns, however many rows. Each value is cast from text in
 * the statement, so PostgreSQL's own input function for the column's type parses it.
 */
function insertStatement(table: PlannedTable, types: readonly string[]): string {
  const columns = table.columns.map(quoted);
  const arrays = columns.map((_, index) => `$${index + 1}::text[]`);
  const casts = columns.map((column, index) => `${column}::${types[index] ?? 'text'}`);
  return `INSERT INTO ${quoted(table.name)} (${columns.join(', ')})
    SELECT ${casts.join(', ')} FROM unnest(${arrays.join(', ')}) AS batch (${columns.join(', ')})`;
}

// What imagine writes (`toISOString()`), or any ISO 8601 instant that names its offset: an instant without
// one would be read in the session's time zone, silently shifted.
const isoInstant = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

/**
 * One SQLite value as the text PostgreSQL's input function for `type` parses: numbers in their exact
 * shortest form (a double's `String()` reads back to the same double), 0/1 as booleans, ISO instants as
 * they are. Anything else is refused here, naming the table and column, rather than stored differently.
 */
function asPostgresText(value: unknown, type: string, table: string, column: string): string | null {
  if (value === null || value === undefined) return null;
  const refuse = (what: string) =>
    new SqliteImportError(
      'copy_failed',
      `${table}.${column} holds ${what} (${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}), ` +
        `which is not a PostgreSQL ${type}. Nothing was copied.`,
    );
  if (type === 'boolean') {
    if (value === 0n || value === 1n) return value === 1n ? 'true' : 'false';
    throw refuse('a value other than 0 or 1');
  }
  if (type === 'timestamp with time zone') {
    if (typeof value === 'string' && isoInstant.test(value)) return value;
    throw refuse('something other than an ISO 8601 instant with its offset');
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number') return String(value);
  throw refuse('a blob');
}

function copyFailed(table: string, error: unknown): SqliteImportError {
  if (SqliteImportError.isInstance(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new SqliteImportError(
    'copy_failed',
    `PostgreSQL refused a row of ${table} (${detail}); the import's transaction was rolled back, so nothing was copied.`,
    { cause: error },
  );
}

/** Moves every identity sequence of the copied tables past the largest id copied, so new rows never collide. */
async function moveIdentitySequences(transaction: TransactionSql, tables: string[]): Promise<void> {
  const identities = await transaction<{ table_name: string; column_name: string }[]>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND is_identity = 'YES' AND table_name IN ${transaction(tables)}`;
  for (const { table_name: table, column_name: column } of identities) {
    // No row copied: the sequence stays where it is, and the first new row takes 1.
    await transaction.unsafe(
      `SELECT setval(pg_get_serial_sequence($1, $2), max(${quoted(column)})) FROM ${quoted(table)}
       HAVING max(${quoted(column)}) IS NOT NULL`,
      [quoted(table), column],
    );
  }
}

/** Each table's count in PostgreSQL, inside the transaction, against SQLite's: any difference rolls back. */
async function checkCounts(
  transaction: TransactionSql,
  tables: PlannedTable[],
): Promise<CopiedTableReport[]> {
  const reports: CopiedTableReport[] = [];
  for (const table of tables) {
    const [row] = await transaction.unsafe<{ count: number }[]>(
      `SELECT count(*)::integer AS count FROM ${quoted(table.name)}`,
    );
    const postgresRows = row?.count ?? 0;
    if (postgresRows !== table.selectedRows) {
      throw new SqliteImportError(
        'count_mismatch',
        `${table.name} has ${postgresRows} rows in PostgreSQL after the copy, but ${table.selectedRows} were ` +
          "selected in SQLite; the import's transaction was rolled back, so nothing was copied.",
      );
    }
    reports.push({
      name: table.name,
      sqliteRows: table.sqliteRows,
      selectedRows: table.selectedRows,
      postgresRows,
      note: table.note,
    });
  }
  return reports;
}

/** Refuses a target with any row in any table but those the service fills on its own (migrations, health). */
async function refuseUnlessEmpty(sql: Sql | TransactionSql): Promise<void> {
  const withRows = await tablesWithRows(sql);
  if (withRows.length === 0) return;
  throw new SqliteImportError(
    'target_not_empty',
    `The PostgreSQL database already has data (rows in ${withRows.join(', ')}): db import-sqlite fills an ` +
      'empty database only, so nothing was changed. Point DATABASE_URL at a new database (CREATE DATABASE …), ' +
      'or empty this one if none of its rows is needed.',
  );
}

/** The tables of the target's schema that hold at least one row. */
export async function tablesWithRows(sql: Sql | TransactionSql): Promise<string[]> {
  const tables = (
    await sql<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
  )
    .map((table) => table.name)
    .filter((name) => !tablesAnEmptyTargetMayFill.includes(name));
  if (tables.length === 0) return [];
  const found = await sql.unsafe<{ i: number }[]>(
    tables
      .map((name, index) => `SELECT ${index} AS i WHERE EXISTS (SELECT 1 FROM ${quoted(name)})`)
      .join(' UNION ALL '),
  );
  return found.map((row) => tables[row.i] ?? '').filter((name) => name !== '');
}

/** An identifier quoted for either engine (both take SQL's double quotes). */
function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
