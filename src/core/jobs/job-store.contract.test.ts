/**
 * The job store's contract: every engine runs this one suite, so they cannot drift in what a caller or a
 * surviving host notices — what a job's row says, who recovers an abandoned job, and how many of a user's
 * jobs run at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import type { ClaimedJob, JobStore, StartAttempt } from './job-store.ts';
import type { NewJobRow } from './new-job-row.ts';

const t0 = new Date('2026-03-10T12:00:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const staleAfterMs = 30_000;

/** Time-ordered ids, as `newRecordId` makes them: `id(1) < id(2)`. */
const id = (index: number) => `0195d2a0-0000-7000-8000-${String(index).padStart(12, '0')}`;

const job = (index: number, overrides: Partial<NewJobRow> = {}): NewJobRow => ({
  id: id(index),
  userId: 'alice',
  kind: 'image',
  source: 'api',
  delivery: 'rest-async',
  request: { prompt: `job ${index}`, n: 1 },
  status: 'queued',
  workerId: 'worker-a',
  now: t0,
  ...overrides,
});

onEveryStoreEngine((engine, open) => {
  describe(`JobStore contract on ${engine}`, () => {
    let opened: StoresUnderTest;
    let store: JobStore;

    beforeEach(async () => {
      opened = await open(() => t0);
      store = opened.stores.jobs;
    });

    afterEach(async () => {
      await opened.close();
    });

    const statusOf = async (index: number, userId = 'alice') => (await store.get(id(index), userId))?.status;

    it('reads a job back as it was written, and only for its own user', async () => {
      await store.insert(job(1, { request: { prompt: 'a lighthouse', nested: { seed: 7 } } }));
      await store.insert(job(2, { status: 'running', kind: 'batch', delivery: 'chat', source: 'discord' }));
      expect(await store.get(id(1), 'alice')).toEqual({
        id: id(1),
        userId: 'alice',
        kind: 'image',
        source: 'api',
        delivery: 'rest-async',
        request: { prompt: 'a lighthouse', nested: { seed: 7 } },
        status: 'queued',
        httpStatus: undefined,
        result: undefined,
        workerId: 'worker-a',
        providerRequestId: undefined,
        progress: undefined,
        heartbeatAt: t0,
        createdAt: t0,
        startedAt: undefined,
        finishedAt: undefined,
      });
      expect(await store.get(id(2), 'alice')).toMatchObject({
        kind: 'batch',
        delivery: 'chat',
        source: 'discord',
        status: 'running',
        startedAt: t0,
      });
      expect(await store.get(id(1), 'bob')).toBeUndefined();
      expect(await store.get(id(9), 'alice')).toBeUndefined();
    });

    it('ends a job with its status, HTTP status and result together, once', async () => {
      await store.insert(job(1, { status: 'running' }));
      const body = { created: 1, data: [{ url: 'https://img.example/1.png' }] };
      expect(
        await store.finish(id(1), { status: 'succeeded', httpStatus: 201, result: body }, later(5_000)),
      ).toBe(true);
      expect(await store.get(id(1), 'alice')).toMatchObject({
        status: 'succeeded',
        httpStatus: 201,
        result: body,
        finishedAt: later(5_000),
      });
      // A second ending (a retried write, a late failure) changes nothing.
      expect(
        await store.finish(
          id(1),
          { status: 'failed', httpStatus: 500, result: { error: 'x' } },
          later(6_000),
        ),
      ).toBe(false);
      expect(await store.get(id(1), 'alice')).toMatchObject({
        status: 'succeeded',
        httpStatus: 201,
        result: body,
      });
      expect(await store.finish(id(9), { status: 'failed' }, later(6_000))).toBe(false);
    });

    it('ends a queued job too, and keeps no result when none is given', async () => {
      await store.insert(job(1));
      expect(await store.finish(id(1), { status: 'cancelled' }, later(1_000))).toBe(true);
      expect(await store.get(id(1), 'alice')).toMatchObject({
        status: 'cancelled',
        httpStatus: undefined,
        result: undefined,
        startedAt: undefined,
        finishedAt: later(1_000),
      });
    });

    it('starts a queued job once, and not one that is running or finished', async () => {
      await store.insert(job(1));
      expect(await store.start(id(1), later(2_000))).toBe(true);
      expect(await store.get(id(1), 'alice')).toMatchObject({
        status: 'running',
        startedAt: later(2_000),
        heartbeatAt: later(2_000),
      });
      expect(await store.start(id(1), later(3_000))).toBe(false);
      await store.finish(id(1), { status: 'failed' }, later(4_000));
      expect(await store.start(id(1), later(5_000))).toBe(false);
      expect(await statusOf(1)).toBe('failed');
    });

    it("notes progress only while a job runs, and the provider's request id", async () => {
      await store.insert(job(1));
      await store.setProgress(id(1), 0.2);
      expect((await store.get(id(1), 'alice'))?.progress).toBeUndefined();
      await store.start(id(1), t0);
      await store.setProgress(id(1), 0.25);
      await store.setProviderRequest(id(1), 'prediction-123');
      expect(await store.get(id(1), 'alice')).toMatchObject({
        progress: 0.25,
        providerRequestId: 'prediction-123',
      });
      await store.finish(id(1), { status: 'succeeded', httpStatus: 201 }, later(1_000));
      await store.setProgress(id(1), 0.9);
      expect((await store.get(id(1), 'alice'))?.progress).toBe(0.25);
    });

    it("beats the heart of one worker's unfinished jobs only", async () => {
      await store.insert(job(1));
      await store.insert(job(2, { status: 'running' }));
      await store.insert(job(3, { status: 'running' }));
      await store.insert(job(4, { status: 'running', workerId: 'worker-b' }));
      await store.finish(id(3), { status: 'succeeded' }, later(1_000));
      await store.heartbeat('worker-a', later(10_000));
      const beats = await Promise.all(
        [1, 2, 3, 4].map(async (index) => (await store.get(id(index), 'alice'))?.heartbeatAt),
      );
      expect(beats).toEqual([later(10_000), later(10_000), t0, t0]);
    });

    it('lists unfinished jobs from an id on, oldest first', async () => {
      await store.insert(job(3, { status: 'running', userId: 'bob' }));
      await store.insert(job(1));
      await store.insert(job(2));
      await store.insert(job(4, { workerId: 'worker-b' }));
      await store.insert(job(5, { status: 'running' }));
      await store.finish(id(5), { status: 'succeeded' }, later(1_000));
      expect((await store.unfinishedFrom('')).map((each) => each.id)).toEqual([id(1), id(2), id(3), id(4)]);
      const fromTwo = await store.unfinishedFrom(id(2));
      expect(fromTwo.map((each) => [each.id, each.userId, each.status, each.workerId])).toEqual([
        [id(2), 'alice', 'queued', 'worker-a'],
        [id(3), 'bob', 'running', 'worker-a'],
        [id(4), 'alice', 'queued', 'worker-b'],
      ]);
      expect(await store.unfinishedFrom(id(6))).toEqual([]);
    });

    it('adopts an unfinished job for another worker, running, and not a finished one', async () => {
      await store.insert(job(1, { workerId: 'dead' }));
      await store.insert(job(2, { workerId: 'dead', status: 'running' }));
      await store.finish(id(2), { status: 'failed' }, later(1_000));
      expect(await store.adopt(id(1), 'worker-b', later(60_000))).toBe(true);
      expect(await store.get(id(1), 'alice')).toMatchObject({
        workerId: 'worker-b',
        status: 'running',
        heartbeatAt: later(60_000),
      });
      expect(await store.adopt(id(2), 'worker-b', later(60_000))).toBe(false);
      expect(await store.get(id(2), 'alice')).toMatchObject({ workerId: 'dead', status: 'failed' });
    });

    describe('recovery claims', () => {
      const claimAt = later(60_000);
      const claim = (
        workerId: string,
        extra: { limit?: number; fromId?: string; goneWorkerIds?: string[] } = {},
      ) =>
        store.claimAbandoned({
          workerId,
          now: claimAt,
          staleBefore: new Date(claimAt.getTime() - staleAfterMs),
          ...extra,
        });

      it("claims a dead worker's unfinished jobs by their stale heartbeat, and nothing else", async () => {
        await store.insert(job(1, { workerId: 'dead', status: 'running' }));
        await store.insert(job(2, { workerId: 'dead' }));
        await store.insert(job(3, { workerId: 'dead', status: 'running' }));
        await store.finish(id(3), { status: 'succeeded' }, later(1_000));
        // Alive: its heartbeat is recent.
        await store.insert(job(4, { workerId: 'alive', status: 'running', now: later(45_000) }));
        // The claimer's own job is never "abandoned", however old its beat.
        await store.insert(job(5, { workerId: 'survivor', status: 'running' }));
        await store.setProviderRequest(id(1), 'prediction-1');

        const claimed = await claim('survivor');
        expect(claimed.map((each) => [each.id, each.status, each.previousWorkerId, each.workerId])).toEqual([
          [id(1), 'running', 'dead', 'survivor'],
          [id(2), 'queued', 'dead', 'survivor'],
        ]);
        expect(claimed[0]).toMatchObject({
          providerRequestId: 'prediction-1',
          request: { prompt: 'job 1', n: 1 },
          heartbeatAt: claimAt,
        });
        // The rows are the survivor's now, their status as it was.
        expect(await store.get(id(1), 'alice')).toMatchObject({
          workerId: 'survivor',
          status: 'running',
          heartbeatAt: claimAt,
        });
        expect(await store.get(id(2), 'alice')).toMatchObject({ workerId: 'survivor', status: 'queued' });
        expect(await store.get(id(4), 'alice')).toMatchObject({ workerId: 'alive' });
        // Freshly claimed, they are nobody else's to take; the survivor's own stale job is, to another.
        expect((await claim('another-survivor')).map((each) => [each.id, each.previousWorkerId])).toEqual([
          [id(5), 'survivor'],
        ]);
      });

      it('claims the jobs of a worker known to be gone whatever its heartbeat, oldest first, a batch at a time', async () => {
        for (const index of [1, 2, 3, 4]) {
          await store.insert(job(index, { workerId: 'gone-here', status: 'running', now: later(59_000) }));
        }
        await store.insert(job(5, { workerId: 'alive', status: 'running', now: later(59_000) }));
        expect(await claim('survivor', { goneWorkerIds: [] })).toEqual([]);
        const first = await claim('survivor', { goneWorkerIds: ['gone-here'], limit: 2 });
        expect(first.map((each) => each.id)).toEqual([id(1), id(2)]);
        const fromThree = await claim('survivor', { goneWorkerIds: ['gone-here', 'nobody'], fromId: id(4) });
        expect(fromThree.map((each) => each.id)).toEqual([id(4)]);
        expect((await claim('survivor', { goneWorkerIds: ['gone-here'] })).map((each) => each.id)).toEqual([
          id(3),
        ]);
        expect(await store.get(id(5), 'alice')).toMatchObject({ workerId: 'alive' });
      });

      it('never hands one job to two of several survivors claiming at once', async () => {
        const jobs = 20;
        for (let index = 1; index <= jobs; index++) {
          await store.insert(
            job(index, {
              workerId: 'dead-host',
              status: index % 2 ? 'running' : 'queued',
              userId: `user-${index % 3}`,
            }),
          );
        }
        const survivors = ['survivor-1', 'survivor-2', 'survivor-3', 'survivor-4'];
        // Each survivor claims a few at a time until nothing is left, as recovery would.
        const claimsOf = async (survivor: string): Promise<ClaimedJob[]> => {
          const mine: ClaimedJob[] = [];
          for (;;) {
            const batch = await claim(survivor, { limit: 3 });
            if (batch.length === 0) return mine;
            mine.push(...batch);
          }
        };
        const claims = await Promise.all(survivors.map(claimsOf));
        const claimedIds = claims.flat().map((each) => each.id);
        expect(claimedIds).toHaveLength(jobs);
        expect(new Set(claimedIds).size).toBe(jobs);
        for (const [index, survivor] of survivors.entries()) {
          for (const claimed of claims[index] ?? []) {
            expect(claimed.previousWorkerId).toBe('dead-host');
            expect((await store.get(claimed.id, claimed.userId))?.workerId).toBe(survivor);
          }
        }
      });
    });

    describe("a user's running limit", () => {
      const attempt = (index: number, maxRunning: number, userId = 'alice', workerId = 'worker-a') =>
        store.startIfBelow({ id: id(index), userId, maxRunning, workerId, now: later(1_000) });
      const count = (attempts: StartAttempt[], outcome: StartAttempt) =>
        attempts.filter((each) => each === outcome).length;

      it('starts exactly as many of 20 queued jobs as the limit allows, under 20 concurrent attempts', async () => {
        for (let index = 1; index <= 20; index++) await store.insert(job(index));
        await store.insert(job(21, { userId: 'bob' }));
        const attempts = await Promise.all(
          Array.from({ length: 20 }, (_, index) => attempt(index + 1, 2, 'alice', `worker-${index % 4}`)),
        );
        expect(count(attempts, 'started')).toBe(2);
        expect(count(attempts, 'limit-reached')).toBe(18);
        const rows = await store.unfinishedFrom('');
        const running = rows.filter((row) => row.status === 'running');
        expect(running).toHaveLength(2);
        // A started job is its starter's, with its start time.
        for (const row of running) {
          const starter = `worker-${(Number(row.id.slice(-12)) - 1) % 4}`;
          expect(row).toMatchObject({
            workerId: starter,
            startedAt: later(1_000),
            heartbeatAt: later(1_000),
          });
        }
        // Another user's limit is their own.
        expect(await attempt(21, 2, 'bob')).toBe('started');
      });

      it('lets the next job start once a running one finishes, and only one', async () => {
        for (let index = 1; index <= 12; index++) await store.insert(job(index));
        expect(await Promise.all([attempt(1, 2), attempt(2, 2)])).toEqual(['started', 'started']);
        expect(await attempt(3, 2)).toBe('limit-reached');
        await store.finish(id(1), { status: 'succeeded', httpStatus: 201 }, later(2_000));
        const attempts = await Promise.all(Array.from({ length: 10 }, (_, index) => attempt(index + 3, 2)));
        expect(count(attempts, 'started')).toBe(1);
        expect((await store.unfinishedFrom('')).filter((row) => row.status === 'running')).toHaveLength(2);
        // Failed and cancelled jobs no longer count either.
        const runningIds = (await store.unfinishedFrom(''))
          .filter((row) => row.status === 'running')
          .map((row) => row.id);
        await store.finish(runningIds[0] ?? '', { status: 'failed' }, later(3_000));
        await store.finish(runningIds[1] ?? '', { status: 'cancelled' }, later(3_000));
        const next = await Promise.all(Array.from({ length: 10 }, (_, index) => attempt(index + 3, 2)));
        expect(count(next, 'started')).toBe(2);
      });

      it('counts jobs that were inserted running, and says when a job is not queued', async () => {
        await store.insert(job(1, { status: 'running' }));
        await store.insert(job(2));
        await store.insert(job(3));
        expect(await attempt(2, 1)).toBe('limit-reached');
        expect(await attempt(2, 2)).toBe('started');
        expect(await attempt(2, 5)).toBe('not-queued');
        await store.finish(id(3), { status: 'cancelled' }, later(1_000));
        expect(await attempt(3, 5)).toBe('not-queued');
        expect(await attempt(9, 5)).toBe('not-queued');
        // The id must be the user's.
        expect(await attempt(2, 5, 'bob')).toBe('not-queued');
        expect(await statusOf(3)).toBe('cancelled');
      });

      it('inserts running only while the user is below the limit, under 20 concurrent inserts', async () => {
        await store.insert(job(100, { status: 'running', userId: 'bob' }));
        const statuses = await Promise.all(
          Array.from({ length: 20 }, (_, index) => {
            const { status: _ignored, ...spec } = job(index + 1, { workerId: `worker-${index % 3}` });
            return store.insertIfBelow(spec, 2);
          }),
        );
        expect(statuses.filter((each) => each === 'running')).toHaveLength(2);
        expect(statuses.filter((each) => each === 'queued')).toHaveLength(18);
        const rows = (await store.unfinishedFrom('')).filter((row) => row.userId === 'alice');
        expect(rows).toHaveLength(20);
        for (const row of rows) {
          expect(row.startedAt).toEqual(row.status === 'running' ? t0 : undefined);
        }
        // Inserts and starts share the one count. Which two went in running is the engine's order: a
        // queued one is picked from what was written.
        const queuedIndex = statuses.indexOf('queued') + 1;
        expect(await attempt(queuedIndex, 2)).toBe('limit-reached');
        const { status: _ignored, ...bobsNext } = job(101, { userId: 'bob' });
        expect(await store.insertIfBelow(bobsNext, 1)).toBe('queued');
        expect(await store.insertIfBelow({ ...bobsNext, id: id(102) }, 2)).toBe('running');
      });
    });
  });
});
