import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../open-database.ts';
import { WriteBatcher } from '../write-batcher.ts';
import { SqliteHealthStore } from './sqlite-health-store.ts';

describe('SQLite health probe', () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });

  function openProbed() {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-health-'));
    folders.push(folder);
    const file = path.join(folder, 'imagine.sqlite');
    const database = openDatabase(file);
    const writes = new WriteBatcher(database);
    return { file, database, writes, health: new SqliteHealthStore(database, writes) };
  }

  it('answers false once the database is closed', async () => {
    const { database, writes, health } = openProbed();
    expect(await health.probe()).toBe(true);
    writes.flushNow();
    database.close();
    expect(await health.probe()).toBe(false);
  });

  it('answers false when the file under the open connection is no longer a database', async () => {
    const { file, database, writes, health } = openProbed();
    expect(await health.probe()).toBe(true);
    // Its pages in the file, not only in the write-ahead log, as in a server that has run a while.
    writes.flushNow();
    database.pragma('wal_checkpoint(TRUNCATE)');
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
    expect(await health.probe()).toBe(false);
    database.close();
  });
});
