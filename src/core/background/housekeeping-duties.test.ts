/**
 * Each housekeeping duty, driven by fake timers on the real services: a sibling's jobs are taken over
 * within seconds of its heartbeat going stale, heartbeats keep a live worker's jobs, abandoned holds are
 * released, and remembered deliveries and idempotency keys are forgotten after their day.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '../../services.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { createTestServices, onePng, scriptedModel } from '../../test-support/test-services.ts';
import { type JobOutcome, staleAfterMs } from '../jobs/job-runner.ts';
import { abandonedHoldAgeMs, jobRecoveryEveryMs } from './housekeeping-duties.ts';

let services: Services | undefined;
beforeEach(() => {
  // Only the clock and the interval timers: the write batcher's own scheduling stays real.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(new Date('2026-05-04T10:00:00Z'));
});
afterEach(async () => {
  vi.useRealTimers();
  await services?.close();
  services = undefined;
});

async function started(): Promise<Services> {
  services = await createTestServices({}, { models: [scriptedModel(onePng)] });
  await services.background.start();
  return services;
}

describe('housekeeping duties', () => {
  it('lists one duty for each kind of background work', async () => {
    const running = await started();
    expect(running.background.names()).toEqual([
      'job-heartbeat',
      'job-recovery',
      'abandoned-holds',
      'forget-processed-events',
      'forget-idempotency-keys',
    ]);
  });

  it("takes over a sibling's job within seconds of its heartbeat going stale, releasing its hold", async () => {
    const running = await started();
    // A sibling on another host, heard from just now: its job is alive and must be left alone.
    const jobId = await leaveCrashedJob(running, {
      userId: 'alice',
      source: 'api',
      delivery: 'rest',
      request: null,
      ageMs: 0,
      hold: { userLimit: 5 },
    });
    await vi.advanceTimersByTimeAsync(staleAfterMs - 1_000);
    expect((await running.jobStore.get(jobId, 'alice'))?.status).toBe('running');
    expect(await running.ledger.usage('alice', 5)).toMatchObject({ reserved: 1 });

    // Its heartbeat goes stale at 30 s; the next scan (every 5 s) takes the job over.
    await vi.advanceTimersByTimeAsync(1_000 + jobRecoveryEveryMs);
    // The scan claims it in its own statement; the job's end is a group commit of the turn after.
    await vi.waitFor(async () =>
      expect(await running.jobStore.get(jobId, 'alice')).toMatchObject({
        status: 'failed',
        result: { error: 'provider_unavailable' },
      }),
    );
    expect(await running.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it("keeps beating for this worker's running jobs, so no sibling takes them", async () => {
    const running = await started();
    let finish: () => void = () => undefined;
    const submitted = running.jobs.submit(
      { userId: 'bob', kind: 'image', source: 'api', delivery: 'rest-async', request: null },
      () =>
        new Promise<JobOutcome<undefined>>((resolve) => {
          finish = () => resolve({ status: 'succeeded', value: undefined });
        }),
    );
    await vi.waitFor(async () => expect(await running.jobStore.get(submitted.id, 'bob')).toBeDefined());
    const firstBeat = (await running.jobStore.get(submitted.id, 'bob'))?.heartbeatAt.getTime() ?? 0;
    await vi.advanceTimersByTimeAsync(60_000);
    // A beat every 10 s: the last one is at most that old, long after the first.
    expect((await running.jobStore.get(submitted.id, 'bob'))?.heartbeatAt.getTime()).toBeGreaterThan(
      firstBeat + 45_000,
    );
    expect((await running.jobStore.get(submitted.id, 'bob'))?.status).toBe('running');
    finish();
    await submitted.done;
  });

  it('releases a hold no job names once it is older than any generation can run', async () => {
    const running = await started();
    await running.ledger.reserve({
      userId: 'carol',
      userLimit: 5,
      scope: undefined,
      images: 2,
      estimatedUsd: 0,
      budgetUsd: undefined,
    });
    await vi.advanceTimersByTimeAsync(abandonedHoldAgeMs - 60_000);
    expect(await running.ledger.usage('carol', 5)).toMatchObject({ reserved: 2 });
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(await running.ledger.usage('carol', 5)).toMatchObject({ used: 0, reserved: 0, remaining: 5 });
  });

  it('forgets chat delivery ids after a day', async () => {
    const running = await started();
    expect(await running.processedEvents.claim('slack:event:Ev1')).toBe(true);
    expect(await running.processedEvents.claim('slack:event:Ev1')).toBe(false);
    vi.setSystemTime(new Date('2026-05-05T10:05:00Z'));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(await running.processedEvents.claim('slack:event:Ev1')).toBe(true);
  });

  it('forgets idempotency keys after their 24 hours', async () => {
    const running = await started();
    running.idempotencyKeys.claim('dave', 'retry-1', 'hash', 'job-1');
    const count = () =>
      (sqliteOf(running).prepare('SELECT COUNT(*) AS n FROM idempotency_keys').get() as { n: number }).n;
    expect(count()).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(count()).toBe(1);
    vi.setSystemTime(new Date('2026-05-05T10:05:00Z'));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(count()).toBe(0);
  });
});
