/**
 * A full disk is an honest 503, not a lost job: on a real tmpfs the test fills (or, where it may not mount
 * one, the same ENOSPC injected into free space, image writes and SQLite writes), nothing is held, no job is
 * left queued or running, /health says so, and once space returns everything works without a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FillableDisk, fillableDisk } from '../test-support/fillable-disk.ts';
import { sqliteOf } from '../test-support/sqlite-of.ts';
import { createTestApp, type TestApp } from '../test-support/test-app.ts';
import { onePng, scriptedModel, storedImageFiles } from '../test-support/test-services.ts';

let current: { testApp: TestApp; disk: FillableDisk } | undefined;
afterEach(async () => {
  if (!current) return;
  current.disk.free();
  await current.testApp.close();
  current.disk.dispose();
  current = undefined;
});

async function start(environment: Record<string, string>, overrides = {}) {
  const disk = fillableDisk();
  const publicBaseUrl = 'http://localhost:8000';
  const testApp = await createTestApp(
    { DATA_DIR: disk.dataDir, PUBLIC_BASE_URL: publicBaseUrl, ...environment },
    { ...disk.overrides(publicBaseUrl), ...overrides },
  );
  disk.attach(testApp.services);
  current = { testApp, disk };
  return { testApp, disk, authorization: await testApp.bearerFor('fox-fan', 'pro') };
}

function generate(testApp: TestApp, authorization: string, headers: Record<string, string> = {}) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: { prompt: 'a fox in the snow', size: '256x256' },
    headers: { authorization, ...headers },
  });
}

function expectStorageUnavailable(response: { statusCode: number; headers: object; json(): unknown }) {
  expect(response.statusCode).toBe(503);
  expect(response.json()).toEqual({
    error: 'storage_unavailable',
    message: expect.stringMatching(/disk is full/),
    retry_after: 30,
  });
  expect(response.headers).toMatchObject({ 'retry-after': '30' });
}

/** What the database says is held or unfinished: all of it must be zero once a request has failed. */
async function leftovers(testApp: TestApp) {
  const { ledger } = testApp.services;
  const database = sqliteOf(testApp.services);
  return {
    reserved: (await ledger.usage('fox-fan', 200)).reserved,
    holds: database.prepare('SELECT count(*) FROM reservations').pluck().get(),
    unfinishedJobs: database
      .prepare("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
      .pluck()
      .get(),
    temporaryFiles: fs
      .readdirSync(path.join(testApp.services.config.dataDir, 'images'), { recursive: true })
      .map(String)
      .filter((name) => name.endsWith('.tmp')),
  };
}

const nothingLeft = { reserved: 0, holds: 0, unfinishedJobs: 0, temporaryFiles: [] };

/** Charged images, their records and the files on disk: the three must agree after any failure. */
async function charged(testApp: TestApp) {
  return {
    used: (await testApp.services.ledger.usage('fox-fan', 200)).used,
    records: sqliteOf(testApp.services).prepare('SELECT count(*) FROM generations').pluck().get(),
    files: storedImageFiles(testApp.services).length,
  };
}

async function waitForJob(testApp: TestApp, authorization: string, jobId: string) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const job = (
      await testApp.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: { authorization } })
    ).json();
    if (job.status === 'succeeded' || job.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${jobId} did not finish`);
}

async function health(testApp: TestApp) {
  const response = await testApp.app.inject({ method: 'GET', url: '/health' });
  return { statusCode: response.statusCode, body: response.json() };
}

describe('a full disk', () => {
  it('refuses new work with 503 storage_unavailable below MIN_FREE_DISK_MB, holds nothing, and recovers when space returns', async () => {
    const { testApp, disk, authorization } = await start({ MIN_FREE_DISK_MB: '1' });
    // Filled before anything reads the free space: the request path looks again at most once a second.
    disk.fill();
    expectStorageUnavailable(await generate(testApp, authorization));
    // The async caller hears it now: no 202 and a job_id that would 404 or stay queued.
    expectStorageUnavailable(await generate(testApp, authorization, { prefer: 'respond-async' }));
    expectStorageUnavailable(
      await generate(testApp, authorization, { prefer: 'respond-async', 'idempotency-key': 'k-1' }),
    );
    expect(await leftovers(testApp)).toEqual(nothingLeft);
    const whileFull = await health(testApp);
    expect(whileFull.statusCode).toBe(503);
    expect(whileFull.body).toMatchObject({ status: 'degraded', disk: { status: 'low', min_free_mb: 1 } });

    disk.free();
    expect((await health(testApp)).statusCode).toBe(200);
    const made = await generate(testApp, authorization);
    expect(made.statusCode).toBe(201);
    const accepted = await generate(testApp, authorization, { prefer: 'respond-async' });
    expect(accepted.statusCode).toBe(202);
    const job = await waitForJob(testApp, authorization, accepted.json().job_id);
    expect(job.status).toBe('succeeded');
    expect(await charged(testApp)).toEqual({ used: 2, records: 2, files: 2 });
    expect(await leftovers(testApp)).toEqual(nothingLeft);
  });

  it('turns writes the disk refuses into 503s, releases what they held once space returns, and serves again', async () => {
    // No free-space floor: the writes themselves meet the full disk, as when it fills mid-request.
    const { testApp, disk, authorization } = await start({ MIN_FREE_DISK_MB: '0' });
    disk.fill();
    const refused = await Promise.all([1, 2, 3].map(() => generate(testApp, authorization)));
    for (const response of refused) expectStorageUnavailable(response);
    const whileFull = await health(testApp);
    expect(whileFull.statusCode).toBe(503);
    expect(whileFull.body.disk.status).toBe('failing');
    expect(await charged(testApp)).toEqual({ used: 0, records: 0, files: 0 });

    disk.free();
    const made = await generate(testApp, authorization);
    expect(made.statusCode).toBe(201);
    // Any hold or job end the full disk refused went in with that request's first commit.
    expect(await charged(testApp)).toEqual({ used: 1, records: 1, files: 1 });
    expect(await leftovers(testApp)).toEqual(nothingLeft);
    expect((await health(testApp)).statusCode).toBe(200);
  });
});

describe('a job that cannot be recorded', () => {
  it('is a 503 to its async caller, never a 202, and its work does not run', async () => {
    const model = scriptedModel(() => onePng());
    const { testApp, authorization } = await start({ MIN_FREE_DISK_MB: '0' }, { models: [model] });
    const database = sqliteOf(testApp.services);
    // The jobs table alone refuses writes, as SQLite does when the WAL cannot grow for the job's row.
    database.function('jobs_disk_full', () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    database.exec(
      'CREATE TEMP TRIGGER jobs_full BEFORE INSERT ON main.jobs BEGIN SELECT jobs_disk_full(); END',
    );

    const retried = { prefer: 'respond-async', 'idempotency-key': 'retry-me' };
    expectStorageUnavailable(await generate(testApp, authorization, retried));
    expect(model.calls).toHaveLength(0);
    expect(database.prepare('SELECT count(*) FROM jobs').pluck().get()).toBe(0);
    expect(await leftovers(testApp)).toEqual(nothingLeft);

    database.exec('DROP TRIGGER temp.jobs_full');
    // The same key again: a new job that runs, not a replay of one that was never recorded.
    const accepted = await generate(testApp, authorization, retried);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers['idempotent-replayed']).toBeUndefined();
    expect((await waitForJob(testApp, authorization, accepted.json().job_id)).status).toBe('succeeded');
    expect(model.calls).toHaveLength(1);
  });
});
