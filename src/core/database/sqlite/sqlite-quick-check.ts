import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What `PRAGMA quick_check` said about a file: intact, damaged (its first problems), or no answer. */
export type QuickCheckOutcome =
  | { kind: 'intact' }
  | { kind: 'damaged'; detail: string }
  | { kind: 'inconclusive'; reason: string };

/** A check under way: its outcome, and a way to stop it when the database closes first. */
export interface QuickCheckRun {
  outcome: Promise<QuickCheckOutcome>;
  stop(): Promise<void>;
}

// Plain CommonJS run by the worker: a read-only connection of its own, one quick_check, one message.
// SQLite may throw its damage codes from the check itself (a garbled root page) instead of listing them.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
let outcome;
try {
  const database = new Database(workerData.file, { readonly: true, fileMustExist: true });
  try {
    database.pragma('busy_timeout = 5000');
    const problems = database.pragma('quick_check').map((row) => row.quick_check).filter((line) => line !== 'ok');
    outcome = problems.length === 0 ? { kind: 'intact' } : { kind: 'damaged', detail: problems.slice(0, 3).join('; ') };
  } finally {
    database.close();
  }
} catch (error) {
  const message = String((error && error.message) || error);
  outcome = /^SQLITE_(CORRUPT|NOTADB)/.test(String(error && error.code))
    ? { kind: 'damaged', detail: message }
    : { kind: 'inconclusive', reason: message };
}
parentPort.postMessage(outcome);
`;

/**
 * Runs `PRAGMA quick_check` on `file` in a worker thread. On a large file it reads every page, which takes
 * seconds: off the event loop, requests go on meanwhile. Its own connection reads the file itself, where
 * the serving connection would answer in part from its page cache.
 */
export function startQuickCheck(file: string): QuickCheckRun {
  const worker = new Worker(workerSource, {
    eval: true,
    // Plain JavaScript: the worker needs none of the parent's loaders (tsx), only the driver.
    execArgv: [],
    workerData: { file, driverPath: createRequire(import.meta.url).resolve('better-sqlite3') },
  });
  const outcome = new Promise<QuickCheckOutcome>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) => resolve({ kind: 'inconclusive', reason: error.message }));
    // After a message this changes nothing; before one, the worker was stopped or died.
    worker.once('exit', () => resolve({ kind: 'inconclusive', reason: 'the check stopped before it ended' }));
  });
  // After the listeners (a 'message' listener references the worker again): a check must never be what
  // keeps the process alive, so a CLI command that met a damaged page still exits.
  worker.unref();
  return {
    outcome,
    async stop() {
      await worker.terminate();
    },
  };
}
