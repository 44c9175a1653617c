/**
 * The quota store's contract: every engine (`sqlite/`, `postgres/`) runs this one suite through the
 * engine-neutral `QuotaLedger`, so the engines cannot drift in what a user notices — who is refused,
 * with which numbers, and what is charged.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imagineRefusal as refusal } from '../../test-support/imagine-refusal.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import type { ReservationRequest } from './quota-accounting.ts';
import { QuotaLedger } from './quota-ledger.ts';
import type { QuotaStore } from './quota-store.ts';

/** A fresh, empty store on one engine, and how to close it. */
export interface QuotaStoreUnderTest {
  store: QuotaStore;
  close(): Promise<void>;
}

const request: ReservationRequest = {
  userId: 'u1',
  userLimit: 5,
  scope: undefined,
  images: 1,
  estimatedUsd: 0,
  budgetUsd: undefined,
};

/** Counts the reservations granted out of `requests` all sent at once; every refusal must be a quota one. */
async function grantedOf(ledger: QuotaLedger, requests: ReservationRequest[]): Promise<number> {
  const outcomes = await Promise.allSettled(requests.map((each) => ledger.reserve(each)));
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected' && !ImagineError.isInstance(outcome.reason)) throw outcome.reason;
  }
  return outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
}

export function runQuotaStoreContract(engine: string, openStore: () => Promise<QuotaStoreUnderTest>): void {
  describe(`QuotaStore contract on ${engine}`, () => {
    let opened: QuotaStoreUnderTest;
    let now: Date;
    let ledger: QuotaLedger;
    const setNow = (instant: string) => {
      now = new Date(instant);
    };

    beforeEach(async () => {
      opened = await openStore();
      setNow('2026-03-10T12:00:00Z');
      ledger = new QuotaLedger(opened.store, () => now);
    });

    afterEach(async () => {
      await opened.close();
    });

    it('refuses the reservation that would pass the monthly limit, with used and limit', async () => {
      for (let index = 0; index < 5; index++) {
        await ledger.commit((await ledger.reserve(request)).id, { images: 1, costUsd: 0 });
      }
      const error = await refusal(() => ledger.reserve(request));
      expect(error.code).toBe('graphics_limit_reached');
      expect(error.message).toBe('Monthly graphics limit reached: 5 images');
      expect(error.context).toEqual({ used: 5, limit: 5 });
      expect(await ledger.usage('u1', 5)).toMatchObject({
        period: '2026-03',
        used: 5,
        reserved: 0,
        remaining: 0,
      });
    });

    it('counts holds against the limit, and a release gives them back', async () => {
      const held = await ledger.reserve({ ...request, images: 3 });
      await ledger.reserve({ ...request, images: 2 });
      expect((await refusal(() => ledger.reserve(request))).context).toEqual({ used: 5, limit: 5 });
      expect(await ledger.release(held.id)).toBe(true);
      expect(await ledger.usage('u1', 5)).toMatchObject({ used: 0, reserved: 2, remaining: 3 });
    });

    it('reserves a batch whole or not at all, and charges only what was produced, once', async () => {
      await ledger.commit((await ledger.reserve({ ...request, images: 2 })).id, { images: 2, costUsd: 0 });
      expect((await refusal(() => ledger.reserve({ ...request, images: 4 }))).code).toBe(
        'graphics_limit_reached',
      );
      const batch = await ledger.reserve({ ...request, images: 3 });
      expect(await ledger.commit(batch.id, { images: 2, costUsd: 0 })).toBe(true);
      expect(await ledger.commit(batch.id, { images: 2, costUsd: 0 })).toBe(false);
      expect(await ledger.release(batch.id)).toBe(false);
      expect(await ledger.usage('u1', 5)).toMatchObject({ used: 4, reserved: 0, remaining: 1 });
      const single = await ledger.reserve(request);
      await expect(ledger.commit(single.id, { images: 2, costUsd: 0 })).rejects.toThrow(RangeError);
      expect(await ledger.usage('u1', 5)).toMatchObject({ used: 4, reserved: 1 });
    });

    it('answers a charge with the standing after it, and refuses to charge a hold that was given back', async () => {
      await ledger.reserve(request);
      const batch = await ledger.reserve({ ...request, images: 3 });
      const usage = await ledger.commitAndReport(batch, { images: 2, costUsd: 0 }, 5);
      expect(usage).toMatchObject({ period: '2026-03', used: 2, reserved: 1, limit: 5, remaining: 2 });
      expect(usage).toEqual(await ledger.usage('u1', 5));
      expect((await refusal(() => ledger.commitAndReport(batch, { images: 2, costUsd: 0 }, 5))).code).toBe(
        'generation_failed',
      );
    });

    it('adds what a hold charged to its tally counter, and nothing for a hold given back', async () => {
      const tally = 'place:guild-1:u1';
      const batch = await ledger.reserve({ ...request, images: 3, tally });
      await ledger.commit(batch.id, { images: 2, costUsd: 0 });
      await ledger.release((await ledger.reserve({ ...request, tally })).id);
      expect(await opened.store.counter(tally, '2026-03')).toMatchObject({
        usedImages: 2,
        reservedImages: 0,
      });
    });

    it('charges a hold that ran across a month end to its month, and starts each month afresh', async () => {
      setNow('2026-03-31T23:59:59Z');
      const hold = await ledger.reserve(request);
      setNow('2026-04-01T00:00:01Z');
      const usage = await ledger.commitAndReport(hold, { images: 1, costUsd: 0 }, 5);
      expect(usage).toMatchObject({ period: '2026-04', used: 0, reserved: 0, remaining: 5 });
      expect(usage.resetsAt.toISOString()).toBe('2026-05-01T00:00:00.000Z');
      setNow('2026-03-31T23:59:59Z');
      expect(await ledger.usage('u1', 5)).toMatchObject({ period: '2026-03', used: 1, reserved: 0 });
    });

    it('holds a daily allowance in the same reservation as the month, all or nothing', async () => {
      setNow('2026-03-10T18:00:00Z');
      const daily = { ...request, userLimit: 5, userDailyLimit: 2 };
      await ledger.commit((await ledger.reserve(daily)).id, { images: 1, costUsd: 0 });
      await ledger.reserve(daily);
      const error = await refusal(() => ledger.reserve(daily));
      expect(error.code).toBe('graphics_limit_reached');
      expect(error.message).toBe('Daily graphics limit reached: 2 images');
      expect(error.context).toEqual({
        used: 2,
        limit: 2,
        limit_period: 'day',
        resets_at: '2026-03-11T00:00:00Z',
        retry_after: 6 * 3600,
      });
      // The refused hold took nothing from the month either.
      expect(await ledger.usage('u1', 5, 2)).toMatchObject({
        used: 1,
        reserved: 1,
        remaining: 3,
        daily: { day: '2026-03-10', used: 1, reserved: 1, limit: 2, remaining: 0 },
      });
      setNow('2026-03-11T00:00:00Z');
      await ledger.commit((await ledger.reserve(daily)).id, { images: 1, costUsd: 0 });
      expect(await ledger.usage('u1', 5, 2)).toMatchObject({ used: 2, reserved: 1, daily: { used: 1 } });
    });

    it("enforces a server's shared cap in the same reservation, leaving nothing on a refused user", async () => {
      const scope = { key: 'discord-guild:42', limit: 3 };
      await ledger.reserve({ ...request, userId: 'a', scope, images: 2 });
      const error = await refusal(() => ledger.reserve({ ...request, userId: 'b', scope, images: 2 }));
      expect(error.code).toBe('scope_limit_reached');
      expect(error.context).toEqual({ used: 2, limit: 3 });
      expect(await ledger.usage('b', 5)).toMatchObject({ used: 0, reserved: 0 });
    });

    it('stops generation once the monthly budget would be exceeded, and counts spending', async () => {
      const paid = { ...request, userLimit: 100, estimatedUsd: 0.04, budgetUsd: 0.1 };
      await ledger.commit((await ledger.reserve(paid)).id, { images: 1, costUsd: 0.04 });
      await ledger.reserve({ ...paid, userId: 'other' });
      const error = await refusal(() => ledger.reserve(paid));
      expect(error.code).toBe('budget_exhausted');
      expect(error.context.retry_after).toBe(21.5 * 86_400);
      expect(await ledger.spending()).toEqual({ period: '2026-03', spentUsd: 0.04, reservedUsd: 0.04 });
      // The user's own hold was rolled back with the refused budget hold.
      expect(await ledger.usage('u1', 100)).toMatchObject({ used: 1, reserved: 0 });
    });

    it('releases abandoned holds (naming their images) and what an interrupted job holds', async () => {
      const abandoned = await ledger.reserve({ ...request, images: 2, imageIds: ['image-a', 'image-b'] });
      setNow('2026-03-10T12:20:00Z');
      await ledger.reserve({ ...request, jobId: 'job-1', imageIds: ['image-c'] });
      const paid = await ledger.reserve({ ...request, jobId: 'job-2' });
      await ledger.commit(paid.id, { images: 1, costUsd: 0 });
      expect(await ledger.releaseAbandoned(new Date('2026-03-10T12:15:00Z'))).toEqual([
        { userId: 'u1', imageIds: ['image-a', 'image-b'] },
      ]);
      expect(await ledger.commit(abandoned.id, { images: 2, costUsd: 0 })).toBe(false);
      expect(await ledger.releaseForJob('job-2')).toEqual([]);
      expect(await ledger.releaseForJob('job-1')).toEqual([{ userId: 'u1', imageIds: ['image-c'] }]);
      expect(await ledger.pendingReservationIds()).toEqual([]);
      expect(await ledger.usage('u1', 5)).toMatchObject({ used: 1, reserved: 0 });
    });

    it('refunds charged images and their cost, never below zero', async () => {
      await ledger.commit((await ledger.reserve({ ...request, images: 2 })).id, { images: 2, costUsd: 0.5 });
      await ledger.refund('u1', '2026-03', { images: 3, costUsd: 0.2 });
      expect(await ledger.usage('u1', 5)).toMatchObject({ used: 0, remaining: 5 });
      expect(await ledger.spending()).toMatchObject({ spentUsd: 0.3 });
    });

    it('grants exactly 5 of 200 reservations sent at once for one user with a limit of 5', async () => {
      const granted = await grantedOf(
        ledger,
        Array.from({ length: 200 }, () => request),
      );
      expect(granted).toBe(5);
      expect(await ledger.usage('u1', 5)).toMatchObject({ used: 0, reserved: 5, remaining: 0 });
      expect(await ledger.pendingReservationIds()).toHaveLength(5);
    });

    it('never passes a daily or a shared cap under concurrency, and settles each hold once', async () => {
      const scope = { key: 'slack-team:T1', limit: 12 };
      const requests = Array.from({ length: 120 }, (_, index) => ({
        ...request,
        userId: `user-${index % 6}`,
        userLimit: 30,
        userDailyLimit: 3,
        scope,
      }));
      expect(await grantedOf(ledger, requests)).toBe(12);
      const [first] = await ledger.pendingReservationIds();
      const settles = await Promise.all(
        Array.from({ length: 20 }, () => ledger.commit(first ?? -1, { images: 1, costUsd: 0 })),
      );
      expect(settles.filter(Boolean)).toHaveLength(1);
      const perUser = await Promise.all(
        Array.from({ length: 6 }, (_, index) => ledger.usage(`user-${index}`, 30, 3)),
      );
      expect(perUser.reduce((sum, usage) => sum + usage.used + usage.reserved, 0)).toBe(12);
      for (const usage of perUser) expect(usage.daily?.reserved ?? 0).toBeLessThanOrEqual(3);
    });
  });
}
