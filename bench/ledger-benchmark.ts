/** Ledger reservations/s beside a raw better-sqlite3 insert loop on the same kind of database file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/core/database/open-database.ts';
import type { ReservationRequest } from '../src/core/quota/quota-accounting.ts';
import { SqliteQuotaLedger } from '../src/core/quota/sqlite/sqlite-quota-ledger.ts';

function timedLoop(count: number, action: (index: number) => void): number {
  const startedAt = performance.now();
  for (let index = 0; index < count; index++) action(index);
  return count / ((performance.now() - startedAt) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Both sides run on a WAL file opened by `openDatabase` (same pragmas), one transaction per operation:
 * a reservation is one IMMEDIATE transaction, the raw side one autocommit INSERT. The sides alternate in
 * rounds and the median of each is reported, so a burst of machine noise cannot favour one side.
 */
/** The ledger benches' reservation: one image for one of 100 users, as many requests from a busy service. */
export function benchReservation(index: number, budgetUsd: number | undefined): ReservationRequest {
  return {
    userId: `user-${index % 100}`,
    userLimit: 1_000_000_000,
    scope: undefined,
    images: 1,
    estimatedUsd: 0.003,
    budgetUsd,
  };
}

export function runLedgerBenchmark(operationsPerRound: number, rounds = 7) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-ledger-bench-'));
  const rawDatabase = openDatabase(path.join(folder, 'raw.sqlite'));
  const ledgerDatabase = openDatabase(path.join(folder, 'ledger.sqlite'));
  try {
    rawDatabase.exec(
      'CREATE TABLE raw_inserts (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, images INTEGER NOT NULL)',
    );
    const insert = rawDatabase.prepare('INSERT INTO raw_inserts (user_id, images) VALUES (?, 1)');
    const ledger = new SqliteQuotaLedger(ledgerDatabase);
    const reserve = (index: number, budgetUsd: number | undefined) =>
      ledger.reserve(benchReservation(index, budgetUsd));

    const raw: number[] = [];
    const reservations: number[] = [];
    const withBudget: number[] = [];
    timedLoop(2000, (index) => insert.run(`warm-${index}`));
    timedLoop(2000, (index) => reserve(index, undefined));
    for (let round = 0; round < rounds; round++) {
      raw.push(timedLoop(operationsPerRound, (index) => insert.run(`user-${index % 100}`)));
      // The default configuration (no monthly budget)...
      reservations.push(timedLoop(operationsPerRound, (index) => reserve(index, undefined)));
      // ...and with MONTHLY_BUDGET_USD set: one more guarded upsert per reservation.
      withBudget.push(timedLoop(operationsPerRound, (index) => reserve(index, 1_000_000)));
    }
    const rawPerSecond = median(raw);
    return {
      rawPerSecond,
      reservationsPerSecond: median(reservations),
      withBudgetPerSecond: median(withBudget),
      ratio: median(reservations) / rawPerSecond,
      withBudgetRatio: median(withBudget) / rawPerSecond,
    };
  } finally {
    rawDatabase.close();
    ledgerDatabase.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
