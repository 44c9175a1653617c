/**
 * A broken database is reported, not served: a damaged file, a file that is not a database, a read-only
 * DATA_DIR and a file where the images folder belongs stop the server (and the CLI) at start with exit 78
 * and a sentence naming the file and what to do, never a stack; a database that becomes unreadable while serving turns /health to 503, and damage
 * SQLite meets while serving is checked, logged with the same advice, and reported until a restart.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './core/database/open-database.ts';
import { capturingLogger } from './test-support/capturing-logger.ts';
import { freePort, runServerUntilExit } from './test-support/server-process.ts';
import { sqliteOf } from './test-support/sqlite-of.ts';
import { createTestApp, type TestApp } from './test-support/test-app.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const cleanups: Array<() => void> = [];
let testApp: TestApp | undefined;
afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function dataFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-broken-'));
  cleanups.push(() => fs.rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** A real imagine database with enough rows to span many pages, closed cleanly (its WAL folded in). */
function realDatabase(folder: string): string {
  const file = path.join(folder, 'imagine.sqlite');
  const database = openDatabase(file);
  database.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  const insert = database.prepare('INSERT INTO notes (text) VALUES (?)');
  database.transaction(() => {
    for (let index = 0; index < 20_000; index++) insert.run(`note ${index} `.repeat(5));
  })();
  database.close();
  return file;
}

/** Writes garbage over `pages` pages from the middle of the file, as a failing disk or a bad copy does. */
function damage(file: string, pages = 4): void {
  const pageSize = 4096;
  const middle = Math.floor(fs.statSync(file).size / pageSize / 2) * pageSize;
  const descriptor = fs.openSync(file, 'r+');
  fs.writeSync(descriptor, Buffer.alloc(pages * pageSize, 0xa5), 0, pages * pageSize, middle);
  fs.closeSync(descriptor);
}

/**
 * Makes `folder` read-only even for root: a tmpfs remounted read-only, else (not root) permissions, else
 * the immutable attribute. Throws if none is possible here, rather than pass without checking anything.
 */
function makeReadOnly(folder: string): void {
  const attempts: Array<[string, () => () => void]> = [
    [
      'read-only tmpfs',
      () => {
        execFileSync('mount', ['-o', 'remount,ro', folder], { stdio: 'ignore' });
        return () => execFileSync('mount', ['-o', 'remount,rw', folder], { stdio: 'ignore' });
      },
    ],
    [
      'permissions',
      () => {
        if (process.getuid?.() === 0) throw new Error('root ignores permissions');
        fs.chmodSync(folder, 0o555);
        return () => fs.chmodSync(folder, 0o755);
      },
    ],
    [
      'immutable attribute',
      () => {
        execFileSync('chattr', ['+i', folder], { stdio: 'ignore' });
        return () => execFileSync('chattr', ['-i', folder], { stdio: 'ignore' });
      },
    ],
  ];
  for (const [, attempt] of attempts) {
    try {
      cleanups.push(attempt());
      return;
    } catch {
      // Try the next way.
    }
  }
  throw new Error(
    `cannot make ${folder} read-only on this machine (${attempts.map(([name]) => name).join(', ')})`,
  );
}

/** A folder on a tmpfs of its own when this process may mount one (so it can be remounted read-only). */
function mountableFolder(): string {
  const folder = dataFolder();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', folder], { stdio: 'ignore' });
    cleanups.push(() => execFileSync('umount', ['-l', folder], { stdio: 'ignore' }));
  } catch {
    // Not allowed to mount: makeReadOnly falls back to permissions or the immutable attribute.
  }
  return folder;
}

async function startWith(folder: string) {
  return runServerUntilExit({ DATA_DIR: folder, PORT: String(await freePort()) });
}

function cliWith(folder: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'list'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), DATA_DIR: folder, ENV_FILE: 'none' },
    encoding: 'utf8',
  });
}

/** No stack trace: no "    at something (file:line)" lines. */
const stackLine = /^\s+at\s/m;

describe('a broken database at start', () => {
  it('refuses a file with damaged pages: exit 78, naming the file and how to recover it', async () => {
    const folder = dataFolder();
    const file = realDatabase(folder);
    damage(file);
    const ended = await startWith(folder);
    expect(ended.code).toBe(78);
    expect(ended.output).toContain(`The database ${file} is damaged`);
    expect(ended.output).toContain('.recover');
    expect(ended.output).not.toMatch(stackLine);

    const cli = cliWith(folder);
    expect(cli.status).toBe(78);
    expect(cli.stderr).toContain(`The database ${file} is damaged`);
    expect(cli.stderr).not.toMatch(stackLine);
  }, 60_000);

  it('refuses a file that is not a database: exit 78, saying to move it aside', async () => {
    const folder = dataFolder();
    const file = path.join(folder, 'imagine.sqlite');
    fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const ended = await startWith(folder);
    expect(ended.code).toBe(78);
    expect(ended.output).toContain(`${file} is not an SQLite database`);
    expect(ended.output).toContain('Move it out of DATA_DIR');
    expect(ended.output).not.toMatch(stackLine);
  }, 60_000);

  it('refuses a read-only DATA_DIR: exit 78, saying it must be writable', async () => {
    const folder = mountableFolder();
    const file = realDatabase(folder);
    makeReadOnly(folder);
    const ended = await startWith(folder);
    expect(ended.code).toBe(78);
    expect(ended.output).toContain(`The database ${file} cannot be opened for writing`);
    expect(ended.output).toContain(`DATA_DIR (${folder}) must be a folder this user can write`);
    expect(ended.output).not.toMatch(stackLine);
  }, 60_000);
});

describe('a DATA_DIR local storage cannot use', () => {
  it('refuses a file where the images folder belongs: exit 78, naming it and saying to move it', async () => {
    const folder = dataFolder();
    const images = path.join(folder, 'images');
    fs.writeFileSync(images, 'a file, where the images folder belongs\n');
    const ended = await startWith(folder);
    expect(ended.code).toBe(78);
    expect(ended.output).toContain(
      `DATA_DIR holds a file "${images}" where STORAGE=local keeps its images folder`,
    );
    expect(ended.output).toContain('move that file out of DATA_DIR');
    expect(ended.output).not.toMatch(stackLine);

    const cli = cliWith(folder);
    expect(cli.status).toBe(78);
    expect(cli.stderr).toContain(`DATA_DIR holds a file "${images}"`);
    expect(cli.stderr).not.toMatch(stackLine);
    // Nothing was touched: the operator's file is still there, as it was.
    expect(fs.readFileSync(images, 'utf8')).toBe('a file, where the images folder belongs\n');
  }, 60_000);
});

/**
 * Folds the write-ahead log into the file, as in a server that has run a while: its pages are then in the
 * file, not only in the log (a fresh database keeps everything in the log until the first checkpoint).
 * The background checkpointer may hold the checkpoint lock at that moment (a loaded machine makes its
 * PASSIVE pass slow): TRUNCATE then answers busy with pages still in the log, so ask until it is done.
 */
async function foldLogIntoFile(testApp: TestApp): Promise<void> {
  for (;;) {
    const [result] = sqliteOf(testApp.services).pragma('wal_checkpoint(TRUNCATE)') as Array<{
      busy: number;
      log: number;
    }>;
    if (result && result.busy === 0 && result.log === 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Writes garbage over every page a b-tree of `table` (the table and its indexes) starts on. */
function damageTable(testApp: TestApp, table: string): void {
  const database = sqliteOf(testApp.services);
  const pageSize = database.pragma('page_size', { simple: true }) as number;
  const roots = database
    .prepare('SELECT rootpage FROM sqlite_schema WHERE tbl_name = ? AND rootpage > 0')
    .pluck()
    .all(table) as number[];
  expect(roots.length).toBeGreaterThan(0);
  const descriptor = fs.openSync(testApp.services.config.databasePath, 'r+');
  for (const root of roots) {
    fs.writeSync(descriptor, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
  }
  fs.closeSync(descriptor);
  // The serving connection keeps recent pages in memory; in a file larger than that cache (as one past the
  // start-up check's 256 MB is) the next read of them goes to the disk. Drop the cache to get there.
  database.pragma('shrink_memory');
}

describe('a database that breaks while serving', () => {
  it('turns /health to 503 with database: error', async () => {
    const folder = dataFolder();
    testApp = await createTestApp({ DATA_DIR: folder });
    expect((await testApp.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    // Overwritten under the running server (a bad restore, a failing disk): the serving connection's
    // page cache would go on answering, so only a real read of the file shows it.
    const file = testApp.services.config.databasePath;
    await foldLogIntoFile(testApp);
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
    const response = await testApp.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    // The unreadable file also starts an integrity check, which may already have called it damaged.
    expect(response.json()).toMatchObject({
      status: 'degraded',
      database: expect.stringMatching(/^(error|damaged)$/),
    });
  });

  it('checks the file when a request meets a damaged page, and reports it damaged until a restart', async () => {
    const folder = dataFolder();
    const logs = capturingLogger('info');
    testApp = await createTestApp({ DATA_DIR: folder }, { logger: logs.logger });
    const app = testApp.app;
    const reader = await testApp.bearerFor('reader');
    const usage = () =>
      app.inject({ method: 'GET', url: '/api/v1/usage', headers: { authorization: reader } });
    const health = () => app.inject({ method: 'GET', url: '/health' });
    expect((await usage()).statusCode).toBe(200);
    expect((await health()).statusCode).toBe(200);

    // The quota counters /api/v1/usage reads are garbled on disk while the server runs.
    await foldLogIntoFile(testApp);
    damageTable(testApp, 'quota_counters');
    const file = testApp.services.config.databasePath;
    const damageLines = () =>
      logs.lines
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.msg.startsWith(`The database ${file} is damaged`));

    // Each request that meets the damage is the contract's 503, never a 500; however many there are, the
    // file is checked once.
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await usage();
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ error: 'storage_unavailable', retry_after: 30 });
    }
    // The check runs in a worker: wait for its verdict in the log.
    while (damageLines().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const [line] = damageLines();
    expect(line).toMatchObject({ level: 50, database: file });
    expect(line.msg).toContain('restore it from a backup');
    expect(line.msg).toContain(`sqlite3 '${file}' .recover`);

    const damaged = await health();
    expect(damaged.statusCode).toBe(503);
    expect(damaged.json()).toMatchObject({ status: 'degraded', database: 'damaged' });

    // A write elsewhere in the file lands (a new user and their key; /health writes its own row too), and
    // the file is still damaged: /health says so until the operator has restored it and restarted.
    await testApp.bearerFor('writer');
    const keys = sqliteOf(testApp.services)
      .prepare("SELECT count(*) FROM api_keys WHERE user_id = 'writer'")
      .pluck()
      .get();
    expect(keys).toBe(1);
    const still = await health();
    expect(still.statusCode).toBe(503);
    expect(still.json()).toMatchObject({ status: 'degraded', database: 'damaged' });
    expect((await usage()).json()).toMatchObject({ error: 'storage_unavailable' });
    expect(damageLines()).toHaveLength(1);
  });
});
