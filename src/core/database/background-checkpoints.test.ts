import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startBackgroundCheckpoints } from './background-checkpoints.ts';
import { openDatabase } from './open-database.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

function databaseFile() {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'checkpoints-'));
  folders.push(folder);
  return path.join(folder, 'imagine.sqlite');
}

describe('startBackgroundCheckpoints', () => {
  it('copies committed pages into the database file without the writer checkpointing', async () => {
    const file = databaseFile();
    const database = openDatabase(file, []);
    const errors: string[] = [];
    const stop = startBackgroundCheckpoints(database, (message) => errors.push(message));
    database.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL)');
    const insert = database.prepare('INSERT INTO blobs (bytes) VALUES (?)');
    // About 500 pages: far below the writer's own threshold, so only the worker can have moved them.
    database.transaction(() => {
      for (let row = 0; row < 500; row++) insert.run(Buffer.alloc(4000, row % 256));
    })();
    const sizeBefore = fs.statSync(file).size;
    await vi.waitFor(() => expect(fs.statSync(file).size).toBeGreaterThan(sizeBefore + 1_000_000), {
      timeout: 5_000,
    });
    await stop();
    expect(errors).toEqual([]);
    expect(database.prepare('SELECT COUNT(*) AS rows FROM blobs').get()).toEqual({ rows: 500 });
    database.close();
  });

  it('leaves the writer a threshold of its own, so the log stays bounded without the worker', async () => {
    const database = openDatabase(databaseFile(), []);
    const stop = startBackgroundCheckpoints(database, () => undefined);
    expect(database.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    await stop();
    database.close();
  });

  it('stops at once when asked twice or after its worker has already gone', async () => {
    const database = openDatabase(databaseFile(), []);
    const stop = startBackgroundCheckpoints(database, () => undefined);
    await expect(stop()).resolves.toBeUndefined();
    await expect(stop()).resolves.toBeUndefined();
    database.close();
  });

  it('never keeps a process alive by itself', async () => {
    const file = databaseFile();
    const script = [
      `import { openDatabase } from ${JSON.stringify(new URL('./open-database.ts', import.meta.url).href)};`,
      `import { startBackgroundCheckpoints } from ${JSON.stringify(new URL('./background-checkpoints.ts', import.meta.url).href)};`,
      `startBackgroundCheckpoints(openDatabase(${JSON.stringify(file)}, []), () => undefined);`,
    ].join('\n');
    // A script that starts the checkpointer and forgets it must still end on its own.
    const exit = await new Promise<number | null>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        timeout: 10_000,
      });
      child.on('exit', (code) => resolve(code));
    });
    expect(exit).toBe(0);
  });
});
