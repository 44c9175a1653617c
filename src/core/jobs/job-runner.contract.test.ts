/**
 * MAX_JOBS_PER_USER across processes: two `JobRunner`s sharing one store are two processes sharing one
 * database. On every engine, a user's jobs never run beside each other past the limit, whichever process
 * took them; a job waiting for a slot the other process holds starts once that job ends; other users are
 * not held up meanwhile.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { QuotaLedger } from '../quota/quota-ledger.ts';
import { JobRunner, type JobSpec, type JobWork } from './job-runner.ts';
import type { JobDelivery, JobStore } from './job-store.ts';

/** A job's work the test lets finish: it says when it started and runs until told to end. */
interface Gate {
  started: Promise<void>;
  hasStarted(): boolean;
  markStarted(): void;
  released: Promise<void>;
  end(): void;
}

function gate(): Gate {
  let markStarted = () => {};
  let begun = false;
  const started = new Promise<void>((resolve) => {
    markStarted = () => {
      begun = true;
      resolve();
    };
  });
  let end = () => {};
  const released = new Promise<void>((resolve) => {
    end = resolve;
  });
  return { started, hasStarted: () => begun, markStarted, released, end };
}

/** Counts, per user, the jobs whose work runs now, over both runners, and the most there ever were. */
class Overlap {
  readonly #now = new Map<string, number>();
  readonly most = new Map<string, number>();
  enter(userId: string): void {
    const running = (this.#now.get(userId) ?? 0) + 1;
    this.#now.set(userId, running);
    this.most.set(userId, Math.max(running, this.most.get(userId) ?? 0));
  }
  leave(userId: string): void {
    this.#now.set(userId, (this.#now.get(userId) ?? 0) - 1);
  }
}

const spec = (userId: string, delivery: JobDelivery): JobSpec => ({
  userId,
  kind: 'image',
  source: 'api',
  delivery,
  request: delivery === 'rest-async' ? { prompt: 'a lighthouse' } : null,
});

onEveryStoreEngine((engine, open) => {
  describe(`MAX_JOBS_PER_USER across two runners on ${engine}`, () => {
    let opened: StoresUnderTest;
    let store: JobStore;
    let runners: JobRunner[];
    let overlap: Overlap;

    const runner = (maxRunningPerUser: number, slotPollEveryMs = 20) => {
      const made = new JobRunner({
        store,
        ledger: new QuotaLedger(opened.stores.quota),
        logger: pino({ level: 'silent' }),
        maxRunningPerUser,
        slotPollEveryMs,
      });
      runners.push(made);
      return made;
    };

    /**
     * Work as the generator does it: a job starting at once writes its row in its hold's commit, counted
     * against the user's running jobs there, and waits for its start when that found the limit reached.
     */
    const work =
      (userId: string, until: Gate): JobWork<string> =>
      async (job) => {
        if (job.rowWithHold) {
          const status = await store.insertIfBelow(job.rowWithHold.row, job.rowWithHold.maxRunning);
          if (status === 'queued') await job.waitForStart();
        }
        overlap.enter(userId);
        until.markStarted();
        await until.released;
        overlap.leave(userId);
        return { status: 'succeeded', value: job.id };
      };

    beforeEach(async () => {
      opened = await open();
      store = opened.stores.jobs;
      runners = [];
      overlap = new Overlap();
    });

    afterEach(async () => {
      for (const each of runners) await each.drain(0);
      await opened.close();
    });

    // 'rest' writes the row with the hold (the hot path); 'rest-async' writes it before the work.
    it.each(['rest', 'rest-async'] as const)(
      'runs one %s job of a user at a time over both, the waiter starting when the other ends',
      async (delivery) => {
        const first = runner(1);
        const second = runner(1);
        const [a1, a2, a3, b1] = [gate(), gate(), gate(), gate()];

        const one = first.submit(spec('alice', delivery), work('alice', a1));
        await a1.started;
        const two = second.submit(spec('alice', delivery), work('alice', a2));
        await two.recorded;
        // Its user's one slot is the other process's: it waits queued, first in line.
        await vi.waitFor(async () =>
          expect(await store.get(two.id, 'alice')).toMatchObject({ status: 'queued' }),
        );
        expect(second.position(two.id)).toBe(1);
        const three = second.submit(spec('alice', delivery), work('alice', a3));
        expect(three.position).toBe(2);

        // Another user is not held up by alice's line.
        const bob = second.submit(spec('bob', delivery), work('bob', b1));
        await b1.started;
        expect(a2.hasStarted()).toBe(false);

        a1.end();
        expect(await one.done).toBe(one.id);
        await a2.started;
        expect(second.position(two.id)).toBe(0);
        expect(second.position(three.id)).toBe(1);
        expect(a3.hasStarted()).toBe(false);

        a2.end();
        await a3.started;
        a3.end();
        b1.end();
        expect(await Promise.all([two.done, three.done, bob.done])).toEqual([two.id, three.id, bob.id]);
        expect(overlap.most.get('alice')).toBe(1);
        for (const id of [one.id, two.id, three.id]) {
          expect((await store.get(id, 'alice'))?.status).toBe('succeeded');
        }
      },
    );

    it('never runs more than the limit of a user’s jobs at once, however they are spread', async () => {
      const both = [runner(1), runner(1)];
      const gates = Array.from({ length: 8 }, () => gate());
      const submitted = gates.map((each, index) =>
        (both[index % 2] as JobRunner).submit(
          spec('alice', index % 3 === 0 ? 'rest-async' : 'rest'),
          work('alice', each),
        ),
      );
      // Each job, once it runs, ends on the next turn: whichever starts next, the rest wait.
      for (const each of gates) void each.started.then(() => setImmediate(each.end));
      await Promise.all(submitted.map((job) => job.done));
      expect(overlap.most.get('alice')).toBe(1);
      expect(gates.every((each) => each.hasStarted())).toBe(true);
    });

    it('starts a job waiting here as soon as one of the user’s jobs here ends, without the poll', async () => {
      // Polling would take a day: only the local end can start the waiter.
      const here = runner(2, 86_400_000);
      const there = runner(2, 86_400_000);
      const [elsewhere, local, waiting] = [gate(), gate(), gate()];
      const away = there.submit(spec('alice', 'rest'), work('alice', elsewhere));
      await elsewhere.started;
      const mine = here.submit(spec('alice', 'rest'), work('alice', local));
      await local.started;
      // Two running (one in each process): this one's row goes in queued.
      const next = here.submit(spec('alice', 'rest'), work('alice', waiting));
      await vi.waitFor(() => expect(here.position(next.id)).toBe(1));

      local.end();
      await mine.done;
      await waiting.started;
      waiting.end();
      elsewhere.end();
      await Promise.all([next.done, away.done]);
      expect(overlap.most.get('alice')).toBe(2);
    });
  });
});
