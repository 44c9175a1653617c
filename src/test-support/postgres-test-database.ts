/**
 * A fresh PostgreSQL database for one test file: on the server at 127.0.0.1:5432 when one answers (this
 * machine kind and CI run one), else on PGlite (PostgreSQL compiled to WebAssembly) behind a local socket
 * (`pglite-multiplexer.ts`, which several processes may share),
 * so the `postgres` driver talks the same wire protocol to either and no test is skipped.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startPgliteMultiplexer } from './pglite-multiplexer.ts';

/** Where a test's database lives and how to drop it afterwards. */
export interface PostgresTestDatabase {
  url: string;
  /**
   * Connections one pool on it may open. PGlite is one session: several pools (several processes) may share
   * it through the multiplexer, a connection each, but a pool of two would wait on itself when one of its
   * connections holds the session in a transaction and the code awaits the other.
   */
  poolSize: number;
  engine: 'server' | 'pglite';
  drop(): Promise<void>;
}

const serverHost = '127.0.0.1';
const serverPort = 5432;
// Trust auth on the local server; which role exists depends on how it was set up.
const serverRoles = ['postgres', 'root'];

/** `engine: 'pglite'` forces the fallback, so it is proven on a machine that has the server too. */
export async function createPostgresTestDatabase(
  options: { engine?: 'auto' | 'pglite' } = {},
): Promise<PostgresTestDatabase> {
  if (options.engine !== 'pglite' && (await serverAnswers())) {
    const onServer = await createOnServer();
    if (onServer) return onServer;
  }
  return createOnPglite();
}

/** One TCP connect to the server's port: refused at once when nothing listens. */
function serverAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: serverHost, port: serverPort });
    const done = (answers: boolean) => {
      socket.destroy();
      resolve(answers);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    // A firewall that drops packets instead of refusing them would otherwise hang the probe.
    socket.setTimeout(1000, () => done(false));
  });
}

async function createOnServer(): Promise<PostgresTestDatabase | undefined> {
  for (const role of serverRoles) {
    const adminUrl = `postgres://${role}@${serverHost}:${serverPort}/postgres`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const name = `imagine_test_${randomBytes(6).toString('hex')}`;
    try {
      await admin.unsafe(`CREATE DATABASE ${name}`);
    } catch {
      await admin.end();
      continue; // no such role, or it may not create databases: try the next one
    }
    return {
      url: `postgres://${role}@${serverHost}:${serverPort}/${name}`,
      poolSize: 10,
      engine: 'server',
      drop: async () => {
        try {
          // FORCE: a pool a failed test left open must not keep the database alive.
          await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await admin.end();
        }
      },
    };
  }
  return undefined;
}

async function createOnPglite(): Promise<PostgresTestDatabase> {
  // Loaded only here: a machine with the server never pays for the WebAssembly build.
  const { PGlite } = await import('@electric-sql/pglite');
  const cached = pgliteDataDirectoryCache();
  const dump = fs.existsSync(cached) ? new Blob([fs.readFileSync(cached)]) : undefined;
  const database = await PGlite.create(dump ? { loadDataDir: dump } : {});
  if (!dump) await cacheDataDirectory(cached, await database.dumpDataDir('none'));
  const server = await startPgliteMultiplexer(database);
  return {
    url: `postgres://postgres@${server.address}/postgres`,
    poolSize: 1,
    engine: 'pglite',
    drop: async () => {
      await server.stop();
      await database.close();
    },
  };
}

/**
 * A fresh PGlite runs initdb, seconds on a small machine; loading the directory a first run left (a fresh
 * cluster, nothing in it) takes under one. Keyed by the installed build, so an upgrade starts afresh.
 */
function pgliteDataDirectoryCache(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const build = fs.statSync(entry);
  return path.join(os.tmpdir(), `imagine-pglite-${build.size}-${Math.round(build.mtimeMs)}.tar`);
}

/** Written beside its place and renamed: test files starting together never read half a file. */
async function cacheDataDirectory(file: string, dump: Blob): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(partial, file);
}
