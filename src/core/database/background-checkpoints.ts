import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './open-database.ts';

/** How often the checkpointer copies the write-ahead log into the database file. */
const checkpointEveryMs = 200;
/**
 * Where the serving connection checkpoints by itself all the same (pages, about 40 MB): only if the
 * background checkpointer has stopped or fallen far behind.
 */
const fallbackCheckpointPages = 10_000;

// Plain CommonJS run by the worker: it opens its own connection and checkpoints on a timer until told to stop.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const database = new Database(workerData.file);
database.pragma('busy_timeout = 5000');
let lastError = '';
const timer = setInterval(() => {
  try {
    database.pragma('wal_checkpoint(PASSIVE)');
    lastError = '';
  } catch (error) {
    // Told once per kind of failure, not five times a second while it lasts.
    const message = String((error && error.message) || error);
    if (message !== lastError) parentPort.postMessage({ error: message });
    lastError = message;
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  database.close();
  parentPort.close();
});
`;

/** Stops the background checkpointer and waits for its connection to close. */
export type StopCheckpoints = () => Promise<void>;

/**
 * Moves WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold: that request then copies a thousand pages and waits for an fsync, and every
 * other request waits with it. A worker thread with its own connection checkpoints every 200 ms instead
 * (PASSIVE: it never blocks the writer), so commits only append to the log, and a page rewritten many
 * times between checkpoints is copied once. The serving connection keeps a far higher threshold of its
 * own, so the log stays bounded even if the worker stops.
 */
export function startBackgroundCheckpoints(
  database: SqliteDatabase,
  onError: (message: string) => void,
): StopCheckpoints {
  database.pragma(`wal_autocheckpoint = ${fallbackCheckpointPages}`);
  const worker = new Worker(workerSource, {
    eval: true,
    // Plain JavaScript: the worker needs none of the parent's loaders (tsx), only the driver.
    execArgv: [],
    workerData: {
      file: database.name,
      everyMs: checkpointEveryMs,
      driverPath: createRequire(import.meta.url).resolve('better-sqlite3'),
    },
  });
  // Listened for from the start, so stopping a worker that already died does not wait forever.
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: { error?: string }) => {
    if (message.error) onError(message.error);
  });
  worker.on('error', (error) => onError(error.message));
  // After the listeners: adding a 'message' listener references the worker again. The checkpointer must
  // never be what keeps the process alive.
  worker.unref();
  return async () => {
    // Held again while it stops: an unreferenced worker would leave nothing keeping this wait alive.
    worker.ref();
    worker.postMessage('stop');
    await exited;
  };
}
