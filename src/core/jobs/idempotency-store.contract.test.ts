/**
 * The idempotency key store's contract: every engine runs this one suite through `IdempotencyKeys`, so a
 * retried request is charged once on either, a reused key with another body is refused on either, and a
 * key is remembered for exactly its window.
 */
import { afterEach, expect, it } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { IdempotencyKeys, idempotencyWindowMs, requestHash } from './idempotency-keys.ts';
import type { NewJobRow } from './new-job-row.ts';

const firstUse = new Date('2026-03-10T12:00:00.000Z');
const fox = requestHash({ kind: 'image', body: { prompt: 'a fox' } });
const owl = requestHash({ kind: 'image', body: { prompt: 'an owl' } });

onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let now: Date;
  let keys: IdempotencyKeys;

  async function start(): Promise<void> {
    opened = await open();
    now = firstUse;
    keys = new IdempotencyKeys(opened.stores.idempotencyKeys, () => now);
  }

  const later = (milliseconds: number) => {
    now = new Date(firstUse.getTime() + milliseconds);
  };

  afterEach(async () => {
    await opened?.close();
  });

  it(`replays the first job for the same key and request, and refuses it with another, on ${engine}`, async () => {
    await start();
    expect(await keys.claim('alice', 'k1', fox, 'job-1')).toEqual({ kind: 'new' });
    later(60_000);
    expect(await keys.claim('alice', 'k1', fox, 'job-2')).toEqual({ kind: 'replay', jobId: 'job-1' });
    expect(await keys.claim('alice', 'k1', owl, 'job-3')).toEqual({ kind: 'conflict' });
    // The refusal changed nothing: the key is still the first job's.
    expect(await keys.claim('alice', 'k1', fox, 'job-4')).toEqual({ kind: 'replay', jobId: 'job-1' });
  });

  it(`keeps each user's keys apart, on ${engine}`, async () => {
    await start();
    expect(await keys.claim('alice', 'k1', fox, 'job-1')).toEqual({ kind: 'new' });
    expect(await keys.claim('bob', 'k1', owl, 'job-2')).toEqual({ kind: 'new' });
    expect(await keys.claim('bob', 'k1', owl, 'job-3')).toEqual({ kind: 'replay', jobId: 'job-2' });
    expect(await keys.claim('alice', 'k2', fox, 'job-4')).toEqual({ kind: 'new' });
  });

  it(`gives 20 concurrent first uses of one key one job, on ${engine}`, async () => {
    await start();
    const jobIds = Array.from({ length: 20 }, (_, index) => `job-${index}`);
    const claims = await Promise.all(jobIds.map((jobId) => keys.claim('alice', 'k1', fox, jobId)));
    const winners = jobIds.filter((_, index) => claims[index]?.kind === 'new');
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    for (const [index, claim] of claims.entries()) {
      if (jobIds[index] !== winner) expect(claim).toEqual({ kind: 'replay', jobId: winner });
    }
    expect(await keys.claim('alice', 'k1', fox, 'job-late')).toEqual({ kind: 'replay', jobId: winner });
  });

  it(`writes a job's row with its key in one step, only for the use that takes the key, on ${engine}`, async () => {
    await start();
    const row = (id: string): NewJobRow => ({
      id,
      userId: 'alice',
      kind: 'image',
      source: 'api',
      delivery: 'rest',
      request: null,
      status: 'queued',
      workerId: 'worker-1',
      now,
    });
    const jobIds = Array.from({ length: 20 }, (_, index) => `job-${index}`);
    const claims = await Promise.all(jobIds.map((jobId) => keys.claim('alice', 'k1', fox, row(jobId))));
    const winner = jobIds.find((_, index) => claims[index]?.kind === 'new');
    expect(claims.filter((claim) => claim.kind === 'new')).toHaveLength(1);
    for (const jobId of jobIds) {
      const job = await opened.stores.jobs.get(jobId, 'alice');
      if (jobId === winner) expect(job).toMatchObject({ id: winner, status: 'queued', delivery: 'rest' });
      else expect(job).toBeUndefined();
    }
    // Another body with the key writes nothing either.
    expect(await keys.claim('alice', 'k1', owl, row('job-other'))).toEqual({ kind: 'conflict' });
    expect(await opened.stores.jobs.get('job-other', 'alice')).toBeUndefined();
  });

  it(`refuses every concurrent use with another request once one has the key, on ${engine}`, async () => {
    await start();
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        keys.claim('alice', 'k1', index === 0 ? fox : owl, `job-${index}`),
      ),
    );
    const winner = claims.findIndex((claim) => claim.kind === 'new');
    expect(claims.filter((claim) => claim.kind === 'new')).toHaveLength(1);
    const winningHash = winner === 0 ? fox : owl;
    for (const [index, claim] of claims.entries()) {
      if (index === winner) continue;
      const sameRequest = (index === 0 ? fox : owl) === winningHash;
      expect(claim).toEqual(sameRequest ? { kind: 'replay', jobId: `job-${winner}` } : { kind: 'conflict' });
    }
  });

  it(`frees a key only for the job that holds it, so a retry runs again, on ${engine}`, async () => {
    await start();
    await keys.claim('alice', 'k1', fox, 'job-1');
    await keys.release('alice', 'k1', 'job-other');
    expect(await keys.claim('alice', 'k1', fox, 'job-2')).toEqual({ kind: 'replay', jobId: 'job-1' });
    await keys.release('alice', 'k1', 'job-1');
    expect(await keys.claim('alice', 'k1', owl, 'job-3')).toEqual({ kind: 'new' });
    expect(await keys.claim('alice', 'k1', owl, 'job-4')).toEqual({ kind: 'replay', jobId: 'job-3' });
  });

  it(`remembers a key for exactly its window, then claims it afresh, on ${engine}`, async () => {
    await start();
    await keys.claim('alice', 'k1', fox, 'job-1');
    later(idempotencyWindowMs);
    expect(await keys.claim('alice', 'k1', owl, 'job-2')).toEqual({ kind: 'conflict' });
    later(idempotencyWindowMs + 1);
    expect(await keys.claim('alice', 'k1', owl, 'job-3')).toEqual({ kind: 'new' });
    expect(await keys.claim('alice', 'k1', owl, 'job-4')).toEqual({ kind: 'replay', jobId: 'job-3' });
  });

  it(`gives an expired key to one of many concurrent new uses, on ${engine}`, async () => {
    await start();
    await keys.claim('alice', 'k1', fox, 'job-old');
    later(idempotencyWindowMs + 1);
    const jobIds = Array.from({ length: 20 }, (_, index) => `job-${index}`);
    const claims = await Promise.all(jobIds.map((jobId) => keys.claim('alice', 'k1', fox, jobId)));
    const winners = jobIds.filter((_, index) => claims[index]?.kind === 'new');
    expect(winners).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === 'replay' && claim.jobId === winners[0])).toHaveLength(19);
  });

  it(`prunes only the keys past their window, and says how many, on ${engine}`, async () => {
    await start();
    await keys.claim('alice', 'old-1', fox, 'job-1');
    await keys.claim('bob', 'old-2', fox, 'job-2');
    later(60 * 60_000);
    await keys.claim('alice', 'recent', fox, 'job-3');
    later(idempotencyWindowMs);
    expect(await keys.forgetExpired()).toBe(0);
    later(idempotencyWindowMs + 1);
    expect(await keys.forgetExpired()).toBe(2);
    expect(await keys.forgetExpired()).toBe(0);
    expect(await opened.stores.idempotencyKeys.find('alice', 'old-1')).toBeUndefined();
    expect(await opened.stores.idempotencyKeys.find('alice', 'recent')).toEqual({
      requestHash: fox,
      jobId: 'job-3',
      createdAt: new Date(firstUse.getTime() + 60 * 60_000),
    });
  });
});
