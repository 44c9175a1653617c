import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../../test-support/capturing-logger.ts';
import { openDatabase } from '../open-database.ts';
import { recheckAfterMs, SqliteDamageWatch } from './sqlite-damage-watch.ts';
import { type QuickCheckOutcome, startQuickCheck } from './sqlite-quick-check.ts';

const corrupt = Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });

/** Checks the test settles by hand, counted. */
function scriptedChecks() {
  const pending: Array<(outcome: QuickCheckOutcome) => void> = [];
  return {
    pending,
    start: () => ({
      outcome: new Promise<QuickCheckOutcome>((resolve) => pending.push(resolve)),
      stop: async () => undefined,
    }),
  };
}

function watchWith(checks: ReturnType<typeof scriptedChecks>) {
  const logs = capturingLogger('info');
  const clock = { now: 1_000 };
  const watch = new SqliteDamageWatch({
    file: '/data/imagine.sqlite',
    logger: logs.logger,
    startCheck: checks.start,
    clock: () => clock.now,
  });
  const entries = () => logs.lines.map((line) => JSON.parse(line) as { level: number; msg: string });
  return { watch, entries, clock };
}

describe('SqliteDamageWatch', () => {
  it('checks once however many damage reports arrive, and stays damaged once the check says so', async () => {
    const checks = scriptedChecks();
    const { watch, entries } = watchWith(checks);
    watch.noticed(corrupt);
    watch.noticed(Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' }));
    watch.noticed(corrupt);
    expect(checks.pending).toHaveLength(1);
    expect(watch.damaged).toBe(false);

    checks.pending[0]?.({ kind: 'damaged', detail: 'Tree 5 page 5: btreeInitPage() returns error code 11' });
    await watch.checked();
    expect(watch.damaged).toBe(true);
    const errors = entries().filter((entry) => entry.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe(
      'The database /data/imagine.sqlite is damaged (Tree 5 page 5: btreeInitPage() returns error code 11). ' +
        'Stop every imagine process using it, then restore it from a backup, or salvage what is readable: ' +
        "sqlite3 '/data/imagine.sqlite' .recover | sqlite3 recovered.sqlite, and move recovered.sqlite into its place.",
    );

    // Damage does not heal while the process runs: no more checks, and no more lines.
    watch.noticed(corrupt);
    expect(checks.pending).toHaveLength(1);
    expect(watch.damaged).toBe(true);
  });

  it('checks again, a minute after, when a check finds the file intact or cannot run', async () => {
    const checks = scriptedChecks();
    const { watch, clock } = watchWith(checks);
    watch.noticed(corrupt);
    checks.pending[0]?.({ kind: 'intact' });
    await watch.checked();
    expect(watch.damaged).toBe(false);

    // The same false alarm from every request: no check back to back with the last.
    clock.now += recheckAfterMs - 1;
    watch.noticed(corrupt);
    expect(checks.pending).toHaveLength(1);
    clock.now += 1;
    watch.noticed(corrupt);
    expect(checks.pending).toHaveLength(2);
    checks.pending[1]?.({ kind: 'inconclusive', reason: 'database is locked' });
    await watch.checked();
    expect(watch.damaged).toBe(false);

    watch.noticed(corrupt);
    expect(checks.pending).toHaveLength(2);
    clock.now += recheckAfterMs;
    watch.noticed(corrupt);
    expect(checks.pending).toHaveLength(3);
  });

  it('ignores errors that are not SQLite reporting damage', () => {
    const checks = scriptedChecks();
    const { watch } = watchWith(checks);
    watch.noticed(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    watch.noticed(Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }));
    watch.noticed(new Error('no code'));
    watch.noticed(undefined);
    expect(checks.pending).toHaveLength(0);
  });
});

describe('startQuickCheck', () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });

  function databaseFile(): string {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-quick-check-'));
    folders.push(folder);
    const file = path.join(folder, 'imagine.sqlite');
    const database = openDatabase(file);
    database.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    database.prepare('INSERT INTO notes (text) VALUES (?)').run('a note');
    database.close();
    return file;
  }

  it('finds an intact file intact, and a garbled table damaged', async () => {
    const file = databaseFile();
    expect(await startQuickCheck(file).outcome).toEqual({ kind: 'intact' });

    const reader = openDatabase(file);
    const root = reader
      .prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'notes'")
      .pluck()
      .get() as number;
    const pageSize = reader.pragma('page_size', { simple: true }) as number;
    reader.close();
    const descriptor = fs.openSync(file, 'r+');
    fs.writeSync(descriptor, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
    fs.closeSync(descriptor);
    expect(await startQuickCheck(file).outcome).toEqual({ kind: 'damaged', detail: expect.any(String) });
  });

  it('calls a file that is not a database damaged', async () => {
    const file = databaseFile();
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
    expect(await startQuickCheck(file).outcome).toEqual({
      kind: 'damaged',
      detail: 'file is not a database',
    });
  });
});
