/** `db import-sqlite`: a database written by today's SQLite code, every table filled, into PostgreSQL. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Sql } from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fillEverySqliteTable, filledAt } from '../../../test-support/filled-sqlite-database.ts';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import { emptyEveryTable } from '../../../test-support/store-engines.ts';
import { SqliteJobRows } from '../../jobs/sqlite/sqlite-job-rows.ts';
import { migrations } from '../migrations/index.ts';
import { openDatabase, type SqliteDatabase } from '../open-database.ts';
import { createPostgresPool } from '../postgres/open-postgres.ts';
import { newRecordId } from '../record-id.ts';
import { copiedTables, postgresOnlyTables, skippedTables } from './import-plan.ts';
import {
  importSqlite,
  type SqliteImportOptions,
  type SqliteImportProgress,
  sqliteTables,
  tablesWithRows,
} from './import-sqlite.ts';
import { SqliteImportError } from './sqlite-import-error.ts';

// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

let target: PostgresTestDatabase;
let sql: Sql;
let folder: string;

beforeAll(async () => {
  target = await createPostgresTestDatabase();
  sql = createPostgresPool({ url: target.url, poolSize: target.poolSize });
}, startUpMs);
afterAll(async () => {
  await sql?.end();
  await target?.drop();
});
beforeEach(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-import-test-'));
  await emptyEveryTable(sql);
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

/** A file written by today's classes, every table filled; `change` then edits it directly. */
async function filledFile(change: (database: SqliteDatabase) => void = () => {}) {
  const file = path.join(folder, 'imagine.sqlite');
  const database = openDatabase(file);
  try {
    const filled = await fillEverySqliteTable(database);
    change(database);
    return { file, ...filled };
  } finally {
    database.close();
  }
}

function run(file: string, options: Partial<SqliteImportOptions> = {}) {
  return importSqlite({ file, sql, now: () => filledAt, ...options });
}

async function refusal(promise: Promise<unknown>): Promise<SqliteImportError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!SqliteImportError.isInstance(error)) throw new Error(`expected an import error, got ${String(error)}`);
  return error;
}

function sqliteCount(file: string, table: string, where = '1', parameters: unknown[] = []): number {
  const database = new Database(file, { readonly: true });
  try {
    return (
      database.prepare(`SELECT count(*) AS count FROM ${table} WHERE ${where}`).get(...parameters) as {
        count: number;
      }
    ).count;
  } finally {
    database.close();
  }
}

/** A value as text, the same for both engines' drivers: instants in ISO form, booleans as SQLite's 0/1. */
function canonical(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (value === true || value === false) return value ? '1' : '0';
  return String(value);
}

describe('db import-sqlite', () => {
  it(
    'copies every table and checks each count in PostgreSQL against SQLite',
    async () => {
      const { file } = await filledFile();
      const progress: SqliteImportProgress[] = [];
      const report = await run(file, { batchRows: 2, onProgress: (event) => progress.push(event) });

      expect(report.fileVersion).toBe(migrations.length);
      expect(report.migratedCopy).toBe(false);
      expect(report.copied.map((table) => table.name)).toEqual(copiedTables.map((table) => table.name));
      for (const table of report.copied) {
        const [row] = await sql.unsafe(`SELECT count(*)::integer AS count FROM ${table.name}`);
        expect(row?.count, table.name).toBe(table.postgresRows);
        expect(table.postgresRows, table.name).toBe(table.selectedRows);
        expect(table.postgresRows, `${table.name} has rows`).toBeGreaterThan(0);
        if (table.name !== 'quota_counters') {
          expect(table.selectedRows, table.name).toBe(sqliteCount(file, table.name));
        }
      }
      // This month's and today's counters; February's are history no limit reads again.
      const counters = report.copied.find((table) => table.name === 'quota_counters');
      expect(counters?.selectedRows).toBe(
        sqliteCount(file, 'quota_counters', "period IN ('2026-03', '2026-03-14')"),
      );
      expect(counters?.sqliteRows).toBe(sqliteCount(file, 'quota_counters'));
      // February's user and budget counters.
      expect((counters?.sqliteRows ?? 0) - (counters?.selectedRows ?? 0)).toBe(2);
      expect(report.skipped).toEqual([
        { name: 'reservations', rows: 1, reason: expect.stringContaining('in flight') },
        { name: 'console_sessions', rows: 1, reason: expect.stringContaining('sign in again') },
        { name: 'health_probe', rows: 1, reason: expect.any(String) },
        { name: 'schema_migrations', rows: migrations.length, reason: expect.any(String) },
      ]);
      expect(await sql`SELECT count(*)::integer AS count FROM reservations`).toEqual([{ count: 0 }]);
      expect(await sql`SELECT count(*)::integer AS count FROM console_sessions`).toEqual([{ count: 0 }]);
      // Progress per table, batch by batch (two rows a batch here).
      const generations = progress.filter(
        (event) => event.kind === 'copying' && event.table === 'generations',
      );
      expect(generations).toEqual([
        { kind: 'copying', table: 'generations', copied: 0, total: 2 },
        { kind: 'copying', table: 'generations', copied: 2, total: 2 },
      ]);
    },
    startUpMs,
  );

  it("knows every SQLite table today's code fills: each is copied or deliberately skipped", async () => {
    const { file } = await filledFile();
    const database = new Database(file, { readonly: true });
    try {
      const tables = sqliteTables(database);
      const copied = copiedTables.map((table) => table.name);
      const skipped = skippedTables.map((table) => table.name);
      // A new table fails here until it is listed in import-plan.ts (and seeded in filled-sqlite-database.ts).
      expect(tables.filter((table) => !copied.includes(table) && !skipped.includes(table))).toEqual([]);
      expect([...copied, ...skipped].filter((table) => !tables.includes(table))).toEqual([]);
      for (const table of tables) {
        const { count } = database.prepare(`SELECT count(*) AS count FROM ${table}`).get() as {
          count: number;
        };
        expect(count, `${table} is filled`).toBeGreaterThan(0);
      }
    } finally {
      database.close();
    }
    // PostgreSQL's schema has the same tables, so nothing copied lands in a table SQLite does not have.
    await run(file);
    const postgresTables = (
      await sql<{ name: string }[]>`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
    ).map((table) => table.name);
    expect(postgresTables).toEqual(
      [...[...copiedTables, ...skippedTables].map((table) => table.name), ...postgresOnlyTables].sort(),
    );
  });

  it('carries every row over exactly: instants, booleans, JSON text, floats and 64-bit integers', async () => {
    const bigSeedId = newRecordId(filledAt);
    const { file, generationId, jobId } = await filledFile((database) => {
      database
        .prepare(
          `INSERT INTO generations (id, user_id, source, prompt, prompt_used, model, seed, width, height, quality,
             cost_usd, generation_ms, storage_key, image_url, content_type, created_at)
           VALUES (?, 'bob', 'cli', 'ünïcødé 🎨', 'ünïcødé 🎨', 'm', ?, 8, 8, 'high', ?, 1, 'k', 'u', 'image/png', ?)`,
        )
        .run(bigSeedId, 9_007_199_254_740_993n, 1 / 3, '2026-03-14T15:09:26.535Z');
    });
    await run(file);

    // Every row of every copied table, column by column (quota counters: the ones selected, holds given back).
    const source = new Database(file, { readonly: true });
    try {
      for (const table of copiedTables) {
        const selection = table.rows?.(filledAt) ?? { where: '1', parameters: [] };
        const columns = (
          source.prepare(`SELECT name FROM pragma_table_info(?)`).all(table.name) as {
            name: string;
          }[]
        ).map((column) => column.name);
        const expected = (
          source
            .prepare(`SELECT ${columns.join(', ')} FROM ${table.name} WHERE ${selection.where}`)
            .safeIntegers(true)
            .all(...selection.parameters) as Record<string, unknown>[]
        )
          .map((row) =>
            JSON.stringify(columns.map((column) => canonical(table.replace?.[column] ?? row[column]))),
          )
          .sort();
        const actual = (await sql.unsafe(`SELECT ${columns.join(', ')} FROM ${table.name}`))
          .map((row) => JSON.stringify(columns.map((column) => canonical(row[column]))))
          .sort();
        expect(actual, table.name).toEqual(expected);
      }
    } finally {
      source.close();
    }

    // And as the types PostgreSQL gives the service.
    const [generation] = await sql`SELECT * FROM generations WHERE id = ${generationId}`;
    expect(generation).toMatchObject({
      cost_usd: 0.1 + 0.2,
      seed: '4294967295',
      created_at: filledAt,
      warnings: '[{"type":"mapped","feature":"aspectRatio","detail":"16:9 → 1344×768 ✓"}]',
      negative_prompt: 'blurry, "low" quality',
      kind: 'variation',
    });
    const [bigSeed] = await sql`SELECT seed, cost_usd, prompt FROM generations WHERE id = ${bigSeedId}`;
    expect(bigSeed).toEqual({ seed: '9007199254740993', cost_usd: 1 / 3, prompt: 'ünïcødé 🎨' });
    const [job] =
      await sql`SELECT request, result, progress, http_status, finished_at FROM jobs WHERE id = ${jobId}`;
    expect(job).toEqual({
      request: '{"prompt":"a lighthouse at dusk","n":2,"extra":{"nested":[1,2.5,null]}}',
      result: `{"images":["${generationId}"]}`,
      progress: 0.75,
      http_status: 201,
      finished_at: filledAt,
    });
    expect(
      await sql`SELECT user_id, admin, label, revoked_at IS NOT NULL AS revoked FROM api_keys ORDER BY user_id`,
    ).toEqual([
      { user_id: 'alice', admin: false, label: 'old script', revoked: true },
      { user_id: 'bob', admin: false, label: null, revoked: false },
      { user_id: 'ops', admin: true, label: 'operator key', revoked: false },
    ]);
    // What was held in flight is given back with the holds; what was charged stays.
    expect(
      await sql`SELECT used_images, reserved_images, spent_usd, reserved_usd FROM quota_counters
                WHERE subject = 'user:bob' AND period = '2026-03'`,
    ).toEqual([{ used_images: 0, reserved_images: 0, spent_usd: 0, reserved_usd: 0 }]);
    expect(
      await sql`SELECT spent_usd FROM quota_counters WHERE subject = 'budget' AND period = '2026-03'`,
    ).toEqual([{ spent_usd: 0.1 + 0.2 }]);
  });

  it('moves each identity sequence past the ids it kept, so new rows do not collide', async () => {
    const { file } = await filledFile();
    await run(file);
    const identities = await sql<{ table_name: string; column_name: string }[]>`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND is_identity = 'YES' AND table_name <> 'reservations'
      ORDER BY table_name`;
    expect(identities.map((identity) => identity.table_name)).toEqual([
      'admin_actions',
      'admin_audit',
      'generation_failures',
      'generations',
    ]);
    for (const { table_name: table, column_name: column } of identities) {
      const [row] = await sql.unsafe(
        `SELECT max(${column})::bigint AS imported, nextval(pg_get_serial_sequence('${table}', '${column}')) AS next
         FROM ${table}`,
      );
      expect(BigInt(row?.next), table).toBe(BigInt(row?.imported) + 1n);
    }
    const [audit] = await sql`
      INSERT INTO admin_audit (actor, action, target, created_at) VALUES ('ops', 'key.create', 'bob', now())
      RETURNING id::integer AS id`;
    expect(audit?.id).toBeGreaterThan(sqliteCount(file, 'admin_audit'));
  });

  it('refuses a database that already has data, and leaves it as it was', async () => {
    const { file } = await filledFile();
    await run(file);
    const before = await sql`SELECT id, plan, created_at FROM users ORDER BY id`;
    const error = await refusal(run(file));
    expect(error.code).toBe('target_not_empty');
    expect(error.message).toMatch(/already has data \(rows in admin_actions, admin_audit, .*users\)/);
    expect(error.message).toContain('nothing was changed');
    expect(await sql`SELECT id, plan, created_at FROM users ORDER BY id`).toEqual(before);
    expect(await sql`SELECT count(*)::integer AS count FROM generations`).toEqual([{ count: 2 }]);

    // One row anywhere is data.
    await emptyEveryTable(sql);
    await sql`INSERT INTO processed_events (event_key, created_at) VALUES ('slack:retry:1', now())`;
    expect((await refusal(run(file))).message).toContain('(rows in processed_events)');
    expect(await tablesWithRows(sql)).toEqual(['processed_events']);
  });

  it("refuses a database holding another application's rows before creating any table in it", async () => {
    const { file } = await filledFile();
    const connection = await sql.reserve();
    try {
      await connection`CREATE SCHEMA other_app`;
      await connection`SET search_path TO other_app`;
      await connection`CREATE TABLE notes (body text)`;
      await connection`INSERT INTO notes VALUES ('keep me')`;
      const error = await refusal(importSqlite({ file, sql: connection, now: () => filledAt }));
      expect(error.message).toContain('(rows in notes)');
      expect(
        await connection`SELECT table_name FROM information_schema.tables WHERE table_schema = 'other_app'`,
      ).toEqual([{ table_name: 'notes' }]);
    } finally {
      await connection`RESET search_path`;
      await connection`DROP SCHEMA IF EXISTS other_app CASCADE`;
      connection.release();
    }
  });

  it('leaves the database empty when a row fails half-way through', async () => {
    const { file } = await filledFile((database) => {
      // PostgreSQL's text cannot hold a NUL character; SQLite's can. This row comes after the others.
      database
        .prepare(
          `INSERT INTO generations (id, user_id, source, prompt, prompt_used, model, width, height, quality,
             cost_usd, generation_ms, storage_key, image_url, content_type, created_at)
           VALUES (?, 'bob', 'api', ?, 'p', 'm', 8, 8, 'high', 0, 1, 'k', 'u', 'image/png', ?)`,
        )
        .run(newRecordId(filledAt), 'before\u0000after', filledAt.toISOString());
    });
    const progress: SqliteImportProgress[] = [];
    const error = await refusal(run(file, { batchRows: 1, onProgress: (event) => progress.push(event) }));
    expect(error.code).toBe('copy_failed');
    expect(error.message).toMatch(/PostgreSQL refused a row of generations \(.+\); .* nothing was copied/);
    // Users, keys, counters and two generations had been written inside the transaction…
    expect(progress).toContainEqual({ kind: 'copying', table: 'users', copied: 3, total: 3 });
    expect(progress).toContainEqual({ kind: 'copying', table: 'generations', copied: 2, total: 3 });
    // …and none of them is there.
    expect(await tablesWithRows(sql)).toEqual([]);
    // The database is still a valid target: the same file, fixed, imports.
    const fixed = new Database(file);
    fixed.prepare("DELETE FROM generations WHERE prompt LIKE 'before%'").run();
    fixed.close();
    await run(file);
    expect(await sql`SELECT count(*)::integer AS count FROM generations`).toEqual([{ count: 2 }]);
  });

  it('refuses a value it would otherwise store differently, naming the table and column', async () => {
    const { file } = await filledFile((database) => {
      database.prepare("UPDATE processed_events SET created_at = '2026-03-14 15:09:26'").run();
    });
    const error = await refusal(run(file));
    expect(error.code).toBe('copy_failed');
    expect(error.message).toContain(
      'processed_events.created_at holds something other than an ISO 8601 instant',
    );
    expect(await tablesWithRows(sql)).toEqual([]);
  });

  it('refuses a file with jobs still queued or running: the SQLite service must be stopped first', async () => {
    const { file } = await filledFile((database) => {
      new SqliteJobRows(database).insert({
        id: newRecordId(filledAt),
        userId: 'alice',
        kind: 'image',
        source: 'api',
        delivery: 'rest-async',
        request: { prompt: 'still running' },
        status: 'running',
        workerId: 'worker-a',
        now: filledAt,
      });
    });
    const error = await refusal(run(file));
    expect(error.code).toBe('unfinished_jobs');
    expect(error.message).toContain('1 job is still queued or running');
    expect(error.message).toContain('Start imagine on this file again');
    expect(await tablesWithRows(sql)).toEqual([]);
  });

  it('imports a file from an older imagine through a migrated copy, leaving the file as it was', async () => {
    const file = path.join(folder, 'old.sqlite');
    const old = openDatabase(
      file,
      migrations.filter((migration) => migration.version <= 8),
    );
    old
      .prepare("INSERT INTO users (id, plan, created_at) VALUES ('carol', 'pro', '2025-11-02T09:00:00.000Z')")
      .run();
    old
      .prepare(
        `INSERT INTO generations (id, user_id, source, prompt, prompt_used, model, width, height, quality,
           cost_usd, generation_ms, storage_key, image_url, content_type, created_at)
         VALUES ('g-1', 'carol', 'api', 'p', 'p', 'm', 8, 8, 'high', 0.04, 1, 'k', 'u', 'image/png', ?)`,
      )
      .run('2025-11-02T09:00:01.000Z');
    old.close();

    const progress: SqliteImportProgress[] = [];
    const report = await run(file, { onProgress: (event) => progress.push(event) });
    expect(report).toMatchObject({ fileVersion: 8, migratedCopy: true });
    const [migrating] = progress;
    expect(migrating).toMatchObject({ kind: 'migrating-copy', from: 8, to: migrations.length });
    expect(await sql`SELECT id, parent_id, kind FROM generations`).toEqual([
      { id: 'g-1', parent_id: null, kind: null },
    ]);
    expect(await sql`SELECT id FROM users`).toEqual([{ id: 'carol' }]);
    // The original is untouched, and the copy is gone.
    expect(sqliteCount(file, 'schema_migrations')).toBe(8);
    if (migrating?.kind === 'migrating-copy') expect(fs.existsSync(migrating.file)).toBe(false);
  });

  it("refuses a file it cannot read as imagine's, before touching PostgreSQL", async () => {
    const missing = await refusal(run(path.join(folder, 'nope.sqlite')));
    expect(missing.message).toContain('There is no file at');

    const notImagine = path.join(folder, 'other.sqlite');
    const other = new Database(notImagine);
    other.exec('CREATE TABLE t (x)');
    other.close();
    expect((await refusal(run(notImagine))).message).toContain("not imagine's");

    const notSqlite = path.join(folder, 'text.sqlite');
    fs.writeFileSync(notSqlite, 'not a database '.repeat(100));
    expect((await refusal(run(notSqlite))).message).toContain('cannot be read as SQLite');

    const { file: newer } = await filledFile((database) => {
      database
        .prepare("INSERT INTO schema_migrations VALUES (99, 'future', '2027-01-01T00:00:00.000Z')")
        .run();
    });
    expect((await refusal(run(newer))).message).toContain(
      'made by a newer imagine (SQLite schema version 99',
    );

    fs.rmSync(newer);
    const { file: unknownTable } = await filledFile((database) => database.exec('CREATE TABLE mystery (x)'));
    const unknown = await refusal(run(unknownTable));
    expect(unknown.code).toBe('schema_mismatch');
    expect(unknown.message).toContain('tables this import does not know (mystery)');
    expect(await tablesWithRows(sql)).toEqual([]);
  });
});
