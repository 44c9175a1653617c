/** Ledger reservations/s beside a raw better-sqlite3 insert loop on the same kind of database file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/core/database/open-database.ts';
import { QuotaLedger } from '../src/core/quota/quota-ledger.ts';

function timedLoop(count: number, action: (index: number) => void): number {
  const startedAt = performance.now();
  for (let index = 0; index < count; index++) action(index);
  return count / ((performance.now() - startedAt) / 1000);
}

/**
 * Both sides run on a WAL file opened by `openDatabase` (same pragmas), one transaction per operation:
 * a reservation is one IMMEDIATE transaction, the raw side one autocommit INSERT.
 */
export function runLedgerBenchmark(count: number) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-ledger-bench-'));
  try {
    const rawDatabase = openDatabase(path.join(folder, 'raw.sqlite'));
    rawDatabase.exec('CREATE TABLE raw_inserts (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, images INTEGER NOT NULL)');
    const insert = rawDatabase.prepare('INSERT INTO raw_inserts (user_id, images) VALUES (?, 1)');
    timedLoop(1000, (index) => insert.run(`warm-${index}`));
    const rawPerSecond = timedLoop(count, (index) => insert.run(`user-${index % 100}`));
    rawDatabase.close();

    const ledgerDatabase = openDatabase(path.join(folder, 'ledger.sqlite'));
    const ledger = new QuotaLedger(ledgerDatabase);
    const reservation = (index: number) => ({
      userId: `user-${index % 100}`,
      userLimit: 1_000_000_000,
      scope: undefined,
      images: 1,
      estimatedUsd: 0.003,
      budgetUsd: 1_000_000_000,
    });
    timedLoop(1000, (index) => ledger.reserve(reservation(index)));
    const reservationsPerSecond = timedLoop(count, (index) => ledger.reserve(reservation(index)));
    ledgerDatabase.close();

    return { rawPerSecond, reservationsPerSecond, ratio: reservationsPerSecond / rawPerSecond };
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
