import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../database/open-database.ts';
import { ImagineError } from '../../errors/imagine-error.ts';
import { SqliteQuotaLedger } from './sqlite-quota-ledger.ts';

function ledgerAt(instant: string) {
  let now = new Date(instant);
  const ledger = new SqliteQuotaLedger(openDatabase(':memory:'), () => now);
  return { ledger, setNow: (next: string) => (now = new Date(next)) };
}

const request = {
  userId: 'u1',
  userLimit: 5,
  scope: undefined,
  images: 1,
  estimatedUsd: 0,
  budgetUsd: undefined,
};

function captureError(action: () => unknown): ImagineError {
  try {
    action();
  } catch (error) {
    if (ImagineError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an ImagineError');
}

describe('SqliteQuotaLedger', () => {
  it('answers a batched charge with the standing it just wrote, and charges only once', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const running = ledger.reserve({ ...request, images: 1 });
    const batch = ledger.reserve({ ...request, images: 3 });
    const usage = ledger.commitInBatchedWrite(batch, { images: 2, costUsd: 0 }, 5);
    expect(usage).toMatchObject({ period: '2026-03', used: 2, reserved: 1, limit: 5, remaining: 2 });
    expect(usage).toEqual(ledger.usage('u1', 5));
    // A second charge of the same hold is refused and changes nothing.
    expect(captureError(() => ledger.commitInBatchedWrite(batch, { images: 2, costUsd: 0 }, 5)).code).toBe(
      'generation_failed',
    );
    expect(ledger.usage('u1', 5)).toEqual(usage);
    ledger.release(running.id);
  });

  it('charges a hold that ran across a month end to its month, and reports the new month', () => {
    const { ledger, setNow } = ledgerAt('2026-03-31T23:59:59Z');
    const hold = ledger.reserve(request);
    setNow('2026-04-01T00:00:01Z');
    const usage = ledger.commitInBatchedWrite(hold, { images: 1, costUsd: 0 }, 5);
    expect(usage).toMatchObject({ period: '2026-04', used: 0, reserved: 0, remaining: 5 });
    setNow('2026-03-31T23:59:59Z');
    expect(ledger.usage('u1', 5)).toMatchObject({ period: '2026-03', used: 1, reserved: 0 });
  });

  it('refuses the reservation that would pass the limit, with used and limit', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    for (let index = 0; index < 5; index++)
      ledger.commit(ledger.reserve(request).id, { images: 1, costUsd: 0 });
    const error = captureError(() => ledger.reserve(request));
    expect(error.code).toBe('graphics_limit_reached');
    expect(error.message).toBe('Monthly graphics limit reached: 5 images');
    expect(error.context).toEqual({ used: 5, limit: 5 });
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 5, reserved: 0, remaining: 0 });
  });

  it('counts pending reservations against the limit, so holds can never oversubscribe', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const held = [ledger.reserve({ ...request, images: 3 }), ledger.reserve({ ...request, images: 2 })];
    expect(captureError(() => ledger.reserve(request)).context).toEqual({ used: 5, limit: 5 });
    ledger.release(held[0]?.id ?? -1);
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 0, reserved: 2, remaining: 3 });
  });

  it('reserves a whole batch or nothing, and charges only what was produced', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    ledger.commit(ledger.reserve({ ...request, images: 2 }).id, { images: 2, costUsd: 0 });
    expect(captureError(() => ledger.reserve({ ...request, images: 4 })).code).toBe('graphics_limit_reached');
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 2, reserved: 0 });
    const batch = ledger.reserve({ ...request, images: 3 });
    ledger.commit(batch.id, { images: 2, costUsd: 0.006 });
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 4, reserved: 0, remaining: 1 });
  });

  it('settles a reservation once: a second commit or release changes nothing', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const reservation = ledger.reserve({ ...request, images: 2 });
    expect(ledger.commit(reservation.id, { images: 2, costUsd: 0 })).toBe(true);
    expect(ledger.commit(reservation.id, { images: 2, costUsd: 0 })).toBe(false);
    expect(ledger.release(reservation.id)).toBe(false);
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 2, reserved: 0 });
    expect(() => ledger.commit(ledger.reserve(request).id, { images: 2, costUsd: 0 })).toThrow(RangeError);
  });

  it('starts a fresh count each calendar month (UTC) and says when it resets', () => {
    const { ledger, setNow } = ledgerAt('2026-01-31T23:59:59Z');
    for (let index = 0; index < 5; index++)
      ledger.commit(ledger.reserve(request).id, { images: 1, costUsd: 0 });
    expect(ledger.usage('u1', 5)).toMatchObject({ period: '2026-01', remaining: 0 });
    expect(ledger.usage('u1', 5).resetsAt.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    setNow('2026-02-01T00:00:00Z');
    expect(ledger.usage('u1', 5)).toMatchObject({ period: '2026-02', used: 0, remaining: 5 });
    expect(() => ledger.reserve(request)).not.toThrow();
  });

  it("enforces a server's shared cap in the same reservation as the user's limit", () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const scope = { key: 'discord-guild:42', limit: 3 };
    ledger.reserve({ ...request, userId: 'a', scope, images: 2 });
    const error = captureError(() => ledger.reserve({ ...request, userId: 'b', scope, images: 2 }));
    expect(error.code).toBe('scope_limit_reached');
    expect(error.context).toEqual({ used: 2, limit: 3 });
    // The refused reservation left nothing behind on the user's own count.
    expect(ledger.usage('b', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it('stops all generation once the monthly budget would be exceeded, and records spending', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const paid = { ...request, userLimit: 100, estimatedUsd: 0.04, budgetUsd: 0.1 };
    ledger.commit(ledger.reserve(paid).id, { images: 1, costUsd: 0.04 });
    ledger.reserve({ ...paid, userId: 'other' });
    const error = captureError(() => ledger.reserve(paid));
    expect(error.code).toBe('budget_exhausted');
    expect(error.httpStatus).toBe(503);
    // From 10 March 12:00 to 1 April 00:00 UTC, when the budget starts again.
    expect(error.context.retry_after).toBe(21.5 * 86_400);
    expect(ledger.spending()).toEqual({ period: '2026-03', spentUsd: 0.04, reservedUsd: 0.04 });
  });

  it('keeps exact counts when two connections to one file reserve in turn', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-'));
    const file = path.join(folder, 'shared.sqlite');
    const first = new SqliteQuotaLedger(openDatabase(file));
    const second = new SqliteQuotaLedger(openDatabase(file));
    let granted = 0;
    for (let index = 0; index < 20; index++) {
      for (const ledger of [first, second]) {
        try {
          ledger.reserve({ ...request, userLimit: 7 });
          granted++;
        } catch (error) {
          if (!ImagineError.isInstance(error)) throw error;
        }
      }
    }
    expect(granted).toBe(7);
    expect(first.pendingReservationIds()).toHaveLength(7);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('releases holds abandoned by a crashed process, and never a hold still young enough to be running', () => {
    const { ledger, setNow } = ledgerAt('2026-03-10T12:00:00Z');
    const abandoned = ledger.reserve({ ...request, images: 2, imageIds: ['image-a', 'image-b'] });
    setNow('2026-03-10T12:20:00Z');
    const running = ledger.reserve({ ...request, images: 1 });
    // What the released hold's images were to be recorded under comes back, to be removed from storage.
    expect(ledger.releaseAbandoned(new Date('2026-03-10T12:15:00Z'))).toEqual([
      { userId: 'u1', imageIds: ['image-a', 'image-b'] },
    ]);
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 0, reserved: 1 });
    // A later sweep still sees the young hold once it is old, and settles nothing twice.
    setNow('2026-03-10T12:40:00Z');
    expect(ledger.releaseAbandoned(new Date('2026-03-10T12:35:00Z'))).toEqual([
      { userId: 'u1', imageIds: [] },
    ]);
    expect(ledger.pendingReservationIds()).toEqual([]);
    expect(ledger.commit(abandoned.id, { images: 2, costUsd: 0 })).toBe(false);
    expect(ledger.commit(running.id, { images: 1, costUsd: 0 })).toBe(false);
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 0, reserved: 0, remaining: 5 });
  });

  it('releases what an interrupted job holds, naming its images, and nothing it already paid for', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    ledger.reserve({ ...request, jobId: 'job-1', imageIds: ['image-a'] });
    const paid = ledger.reserve({ ...request, jobId: 'job-2', imageIds: ['image-b'] });
    ledger.commit(paid.id, { images: 1, costUsd: 0 });
    expect(ledger.releaseForJob('job-1')).toEqual([{ userId: 'u1', imageIds: ['image-a'] }]);
    expect(ledger.releaseForJob('job-2')).toEqual([]);
    expect(ledger.usage('u1', 5)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('counts spending even when no budget is set', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const reservation = ledger.reserve({ ...request, images: 2, estimatedUsd: 0.006 });
    expect(ledger.spending()).toEqual({ period: '2026-03', spentUsd: 0, reservedUsd: 0 });
    ledger.commit(reservation.id, { images: 2, costUsd: 0.006 });
    expect(ledger.spending()).toEqual({ period: '2026-03', spentUsd: 0.006, reservedUsd: 0 });
  });

  it('holds a daily allowance in the same reservation as the monthly one, and says when the day resets', () => {
    const { ledger, setNow } = ledgerAt('2026-03-10T18:00:00Z');
    const daily = { ...request, userLimit: 5, userDailyLimit: 2 };
    ledger.commit(ledger.reserve(daily).id, { images: 1, costUsd: 0 });
    ledger.reserve(daily);
    const error = captureError(() => ledger.reserve(daily));
    expect(error.code).toBe('graphics_limit_reached');
    expect(error.httpStatus).toBe(402);
    expect(error.message).toBe('Daily graphics limit reached: 2 images');
    expect(error.context).toEqual({
      used: 2,
      limit: 2,
      limit_period: 'day',
      resets_at: '2026-03-11T00:00:00Z',
      retry_after: 6 * 3600,
    });
    // The refused hold took nothing from the month either.
    expect(ledger.usage('u1', 5, 2)).toMatchObject({
      used: 1,
      reserved: 1,
      remaining: 3,
      daily: { day: '2026-03-10', used: 1, reserved: 1, limit: 2, remaining: 0 },
    });
    // A new UTC day gives the daily allowance back; the month keeps counting.
    setNow('2026-03-11T00:00:00Z');
    ledger.commit(ledger.reserve(daily).id, { images: 1, costUsd: 0 });
    ledger.commit(ledger.reserve(daily).id, { images: 1, costUsd: 0 });
    expect(ledger.usage('u1', 5, 2)).toMatchObject({
      used: 3,
      reserved: 1,
      daily: { used: 2, remaining: 0 },
    });
    expect(ledger.usage('u1', 5, 2).daily?.resetsAt.toISOString()).toBe('2026-03-12T00:00:00.000Z');
  });

  it('keeps the monthly 402 exactly as the contract has it when the month runs out before the day', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const daily = { ...request, userLimit: 2, userDailyLimit: 20 };
    ledger.commit(ledger.reserve({ ...daily, images: 2 }).id, { images: 2, costUsd: 0 });
    const error = captureError(() => ledger.reserve(daily));
    expect(error.message).toBe('Monthly graphics limit reached: 2 images');
    expect(error.context).toEqual({ used: 2, limit: 2 });
  });

  it('settles a daily hold on the day it was taken, even after midnight', () => {
    const { ledger, setNow } = ledgerAt('2026-03-10T23:59:59Z');
    const daily = { ...request, userLimit: 10, userDailyLimit: 2 };
    const hold = ledger.reserve({ ...daily, images: 2 });
    setNow('2026-03-11T00:00:01Z');
    // Today is untouched by yesterday's hold, which charges yesterday when it settles.
    expect(ledger.usage('u1', 10, 2).daily).toMatchObject({ day: '2026-03-11', used: 0, reserved: 0 });
    expect(ledger.commitInBatchedWrite(hold, { images: 1, costUsd: 0 }, 10, 2)).toMatchObject({
      used: 1,
      reserved: 0,
      daily: { day: '2026-03-11', used: 0, remaining: 2 },
    });
    setNow('2026-03-10T23:59:59Z');
    expect(ledger.usage('u1', 10, 2).daily).toMatchObject({ used: 1, reserved: 0, remaining: 1 });
  });

  it('holds without a daily allowance leave a later daily count alone when they settle', () => {
    const { ledger } = ledgerAt('2026-03-10T12:00:00Z');
    const monthlyOnly = ledger.reserve({ ...request, userLimit: 10 });
    const daily = ledger.reserve({ ...request, userLimit: 10, userDailyLimit: 3 });
    ledger.release(monthlyOnly.id);
    ledger.commit(daily.id, { images: 1, costUsd: 0 });
    expect(ledger.usage('u1', 10, 3)).toMatchObject({
      used: 1,
      reserved: 0,
      daily: { used: 1, reserved: 0 },
    });
  });

  it('never passes either limit when two connections to one file take 200 reservations between them', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-'));
    const file = path.join(folder, 'shared.sqlite');
    let now = new Date('2026-03-10T12:00:00Z');
    const ledgers = [
      new SqliteQuotaLedger(openDatabase(file), () => now),
      new SqliteQuotaLedger(openDatabase(file), () => now),
    ];
    const daily = { ...request, userLimit: 30, userDailyLimit: 20 };
    const attempt = () => {
      let granted = 0;
      for (let index = 0; index < 100; index++) {
        for (const ledger of ledgers) {
          try {
            ledger.reserve(daily);
            granted++;
          } catch (error) {
            if (!ImagineError.isInstance(error)) throw error;
          }
        }
      }
      return granted;
    };
    expect(attempt()).toBe(20);
    now = new Date('2026-03-11T12:00:00Z');
    expect(attempt()).toBe(10);
    expect(ledgers[0]?.usage('u1', 30, 20)).toMatchObject({ reserved: 30, daily: { reserved: 10 } });
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
