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
});
