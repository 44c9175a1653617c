/** `npm run cli -- db import-sqlite <file>` as an operator runs it: a child process against a test database. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../core/database/open-database.ts';
import { createPostgresPool } from '../core/database/postgres/open-postgres.ts';
import { fillEverySqliteTable } from '../test-support/filled-sqlite-database.ts';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../test-support/postgres-test-database.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');
// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;

let target: PostgresTestDatabase;
let folder: string;
let file: string;

beforeAll(async () => {
  target = await createPostgresTestDatabase();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-import-'));
  file = path.join(folder, 'imagine.sqlite');
  const database = openDatabase(file);
  await fillEverySqliteTable(database);
  database.close();
}, startUpMs);
afterAll(async () => {
  await target?.drop();
  fs.rmSync(folder, { recursive: true, force: true });
});

/**
 * Runs the CLI and waits without blocking: on a machine without the server, PGlite answers the child from
 * this process. No connection of the test's is open meanwhile (PGlite serves one at a time).
 */
function cli(
  environment: Record<string, string>,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? os.tmpdir(),
          ENV_FILE: 'none',
          ...environment,
        },
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ status: error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe('db import-sqlite', () => {
  it(
    'imports into the empty database at DATABASE_URL, then refuses to import into it again',
    async () => {
      const environment = { DATABASE_URL: target.url, DATABASE_POOL_SIZE: String(target.poolSize) };
      const first = await cli(environment, 'db', 'import-sqlite', file);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(first.stdout).toContain(`Importing ${file} into PostgreSQL at 127.0.0.1:`);
      expect(first.stdout).toContain('  generations: 2 rows to copy');
      expect(first.stdout).toMatch(/Committed\. Each table's count in PostgreSQL, checked against SQLite's/);
      expect(first.stdout).toMatch(/^ {2}users +3$/m);
      expect(first.stdout).toMatch(/^ {2}reservations +1 {2}\(holds of generations in flight/m);
      expect(first.stdout).not.toContain('postgres://');

      const sql = createPostgresPool({ url: target.url, poolSize: 1 });
      try {
        expect(await sql`SELECT count(*)::integer AS count FROM users`).toEqual([{ count: 3 }]);
      } finally {
        await sql.end();
      }

      const again = await cli(environment, 'db', 'import-sqlite', file);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain('import-sqlite: The PostgreSQL database already has data (rows in');
      expect(again.stderr).toContain('nothing was changed');
    },
    startUpMs,
  );

  it('says which variable to set, and what is missing from the command', async () => {
    const noUrl = await cli({}, 'db', 'import-sqlite', file);
    expect(noUrl.status).toBe(78);
    expect(noUrl.stderr).toContain('DATABASE_URL is not set');

    const badPool = await cli(
      { DATABASE_URL: target.url, DATABASE_POOL_SIZE: 'many' },
      'db',
      'import-sqlite',
      file,
    );
    expect(badPool.status).toBe(78);
    expect(badPool.stderr).toContain('DATABASE_POOL_SIZE is "many": must be a whole number of connections');

    // The config's own check, as the service makes it at start: the password is not shown.
    const notPostgres = await cli(
      { DATABASE_URL: 'mysql://imagine:hunter2@db/imagine' },
      'db',
      'import-sqlite',
      file,
    );
    expect(notPostgres.status).toBe(78);
    expect(notPostgres.stderr).toContain('DATABASE_URL is "mysql://***@db/imagine": must be a postgres://');
    expect(notPostgres.stderr).not.toContain('hunter2');

    const noPath = await cli({ DATABASE_URL: target.url }, 'db', 'import-sqlite');
    expect(noPath.status).toBe(64);
    expect(noPath.stderr).toContain('missing <path to imagine.sqlite>');

    const missing = await cli(
      { DATABASE_URL: target.url },
      'db',
      'import-sqlite',
      path.join(folder, 'nope.sqlite'),
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('There is no file at');
  }, 60_000);
});
