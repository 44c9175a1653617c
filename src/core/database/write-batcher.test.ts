import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.ts';
import { WriteBatcher } from './write-batcher.ts';

function database() {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)');
  return db;
}

describe('WriteBatcher', () => {
  it('commits writes queued together in one transaction and gives each its own result', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'batcher-'));
    const file = path.join(folder, 'notes.sqlite');
    const db = openDatabase(file);
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)');
    const reader = openDatabase(file);
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number }).n;
    const batcher = new WriteBatcher(db);
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)');
    const seenByOthersMidway: number[] = [];
    const ids = await Promise.all(
      ['a', 'b', 'c'].map((text) =>
        batcher.run(() => {
          seenByOthersMidway.push(count());
          return Number(insert.run(text).lastInsertRowid);
        }),
      ),
    );
    expect(ids).toEqual([1, 2, 3]);
    // Another connection saw none of the group until the single commit, then all of it.
    expect(seenByOthersMidway).toEqual([0, 0, 0]);
    expect(count()).toBe(3);
    db.close();
    reader.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('rolls back only the write that throws; the rest of the group commits', async () => {
    const db = database();
    const batcher = new WriteBatcher(db);
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)');
    const results = await Promise.allSettled([
      batcher.run(() => insert.run('kept')),
      batcher.run(() => {
        insert.run('undone');
        throw new Error('refused');
      }),
      batcher.run(() => insert.run('also kept')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT text FROM notes ORDER BY id').all()).toEqual([
      { text: 'kept' },
      { text: 'also kept' },
    ]);
  });

  it("commits a refused write's group-mates exactly once, in their order, with their own results", async () => {
    const db = database();
    const batcher = new WriteBatcher(db);
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)');
    const texts = ['one', 'two', 'refused', 'three'];
    const results = await Promise.allSettled(
      texts.map((text) =>
        batcher.run(() => {
          if (text === 'refused') throw new Error('refused');
          return Number(insert.run(text).lastInsertRowid);
        }),
      ),
    );
    expect(results).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('refused') },
      { status: 'fulfilled', value: 3 },
    ]);
    expect(db.prepare('SELECT id, text FROM notes ORDER BY id').all()).toEqual([
      { id: 1, text: 'one' },
      { id: 2, text: 'two' },
      { id: 3, text: 'three' },
    ]);
  });

  it('undoes a write alone in its group when it throws', async () => {
    const db = database();
    const batcher = new WriteBatcher(db);
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)');
    await expect(
      batcher.run(() => {
        insert.run('half done');
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(db.prepare('SELECT COUNT(*) AS n FROM notes').get()).toEqual({ n: 0 });
  });

  it('reports nothing done when the commit itself fails', async () => {
    const db = database();
    const batcher = new WriteBatcher(db);
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)');
    const pending = batcher.run(() => insert.run('lost'));
    db.close();
    await expect(pending).rejects.toThrow();
  });

  it('refuses every write of a group the disk will not take with 503 storage_unavailable, and keeps the ones that must land until it does', async () => {
    const db = database();
    let full = true;
    db.function('disk_full', () => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return 0;
    });
    db.exec('CREATE TEMP TRIGGER notes_full BEFORE INSERT ON main.notes BEGIN SELECT disk_full(); END');
    const failures: unknown[] = [];
    let commits = 0;
    const batcher = new WriteBatcher(db, {
      committed: () => commits++,
      failed: (error) => failures.push(error),
    });
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)');
    const ordinary = batcher.run(() => insert.run('ordinary'));
    const release = batcher.runEventually(() => insert.run('release'));
    await expect(ordinary).rejects.toMatchObject({
      code: 'storage_unavailable',
      context: { retry_after: 30 },
    });
    // Told at once that it waits, so the caller is not held up by the outage.
    expect(await release).toBe(false);
    expect(batcher.waitingForDisk).toBe(1);
    expect(failures).toHaveLength(1);
    // Still full: the kept write fails again with the next group and stays kept.
    await expect(batcher.run(() => insert.run('second'))).rejects.toMatchObject({
      code: 'storage_unavailable',
    });
    expect(batcher.waitingForDisk).toBe(1);

    full = false;
    await batcher.run(() => insert.run('after'));
    expect(batcher.waitingForDisk).toBe(0);
    // The kept write went in first, with the first group the disk took; the refused ordinary writes never.
    expect(db.prepare('SELECT text FROM notes ORDER BY id').pluck().all()).toEqual(['release', 'after']);
    expect(commits).toBe(1);
    db.close();
  });
});
