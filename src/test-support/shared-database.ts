/**
 * A database that several server processes share, on either engine, for the cross-process tests: on
 * SQLite the processes share one DATA_DIR (the file is the database); on PostgreSQL each process has its
 * own DATA_DIR and they share nothing but `DATABASE_URL`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { createPostgresTestDatabase } from './postgres-test-database.ts';

/** The engines a cross-process test runs on. */
export const sharedDatabaseEngines = ['SQLite', 'PostgreSQL'] as const;
export type SharedDatabaseEngine = (typeof sharedDatabaseEngines)[number];

/** A fresh database for one test, its processes' environments, and a way to count its rows. */
export interface SharedDatabase {
  engine: SharedDatabaseEngine;
  /** Where PostgreSQL lives in this run: the server, or PGlite when none answers (SQLite: the file). */
  host: string;
  /** The variables process `index` starts with (DATA_DIR, and DATABASE_URL on PostgreSQL). */
  environment(index: number): Record<string, string>;
  /** Every DATA_DIR the processes were given. */
  dataDirs(): string[];
  /** The single number a `SELECT COUNT(*) …` answers, read straight from the database. */
  count(query: string): Promise<number>;
  close(): Promise<void>;
}

/** Creates the database; on PostgreSQL through `createPostgresTestDatabase()`. */
export async function createSharedDatabase(engine: SharedDatabaseEngine): Promise<SharedDatabase> {
  const folders = new Map<number, string>();
  const folderFor = (index: number) => {
    let folder = folders.get(index);
    if (!folder) {
      folder = fs.mkdtempSync(path.join(os.tmpdir(), `imagine-shared-${index}-`));
      folders.set(index, folder);
    }
    return folder;
  };
  const removeFolders = () => {
    for (const folder of folders.values()) fs.rmSync(folder, { recursive: true, force: true });
  };
  if (engine === 'SQLite') {
    return {
      engine,
      host: 'file',
      environment: () => ({ DATA_DIR: folderFor(0) }),
      dataDirs: () => [...folders.values()],
      async count(query) {
        const database = new Database(path.join(folderFor(0), 'imagine.sqlite'), { readonly: true });
        try {
          return Number(Object.values(database.prepare(query).get() as object)[0]);
        } finally {
          database.close();
        }
      },
      async close() {
        removeFolders();
      },
    };
  }
  const database = await createPostgresTestDatabase();
  return {
    engine,
    host: database.engine,
    environment: (index) => ({
      DATA_DIR: folderFor(index),
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: String(database.poolSize),
    }),
    dataDirs: () => [...folders.values()],
    async count(query) {
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql.unsafe(query);
        return Number(Object.values(row ?? {})[0]);
      } finally {
        await sql.end();
      }
    },
    async close() {
      await database.drop();
      removeFolders();
    },
  };
}

/** The PNG files stored under these data folders. */
export function storedPngs(dataDirs: readonly string[]): string[] {
  return dataDirs.flatMap((folder) => {
    const images = path.join(folder, 'images');
    if (!fs.existsSync(images)) return [];
    return fs
      .readdirSync(images, { recursive: true })
      .map(String)
      .filter((name) => name.endsWith('.png'));
  });
}
