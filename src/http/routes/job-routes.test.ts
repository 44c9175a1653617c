/** Generations as jobs over REST: async answers, idempotency keys, per-user lines and crash recovery. */
import http from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import { imageRequestSchema } from '../../core/generation/generation-request.ts';
import type { SqliteGenerationStore } from '../../core/generation/sqlite/sqlite-generation-store.ts';
import { requestHash } from '../../core/jobs/idempotency-keys.ts';
import { imageKey } from '../../core/storage/image-storage.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { createPostgresTestDatabase } from '../../test-support/postgres-test-database.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { onePng, scriptedModel, storedImageFiles } from '../../test-support/test-services.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

function slowModel(milliseconds: number) {
  return scriptedModel(async () => {
    await new Promise((resolve) => setTimeout(resolve, milliseconds));
    return onePng();
  });
}

async function post(
  testApp: TestApp,
  authorization: string,
  body: object,
  headers: Record<string, string> = {},
) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: body,
    headers: { authorization, ...headers },
  });
}

async function waitForJob(testApp: TestApp, authorization: string, jobId: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const job = (
      await testApp.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: { authorization } })
    ).json();
    if (job.status === 'succeeded' || job.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${jobId} did not finish`);
}

describe('Prefer: respond-async', () => {
  it('answers 202 with a job to poll, whose result is the synchronous response', async () => {
    current = await createTestApp({}, { models: [slowModel(50)] });
    const authorization = await current.bearerFor('alice');
    const accepted = await post(current, authorization, { prompt: 'a fox' }, { prefer: 'respond-async' });
    expect(accepted.statusCode).toBe(202);
    const { job_id: jobId, status_url: statusUrl } = accepted.json();
    expect(accepted.headers.location).toBe(statusUrl);
    const job = await waitForJob(current, authorization, jobId);
    expect(job).toMatchObject({ id: jobId, status: 'succeeded', position: 0 });
    expect(job.result).toMatchObject({ success: true, model: 'placeholder', usage: { used: 1 } });
    expect(
      (
        await current.app.inject({
          method: 'GET',
          url: statusUrl,
          headers: { authorization: await current.bearerFor('bob') },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('shows how far a running job has got, as the model reports it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reporting = scriptedModel(async (options) => {
      options.onProgress?.(0.5);
      await gate;
      return onePng();
    });
    current = await createTestApp({}, { models: [reporting] });
    const authorization = await current.bearerFor('alice');
    const accepted = await post(current, authorization, { prompt: 'a fox' }, { prefer: 'respond-async' });
    const jobId = accepted.json().job_id;
    const poll = async () =>
      (
        await current?.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: { authorization } })
      )?.json();
    await vi.waitFor(async () => expect(await poll()).toMatchObject({ status: 'running', progress: 0.5 }));
    release();
    expect(await waitForJob(current, authorization, jobId)).toMatchObject({
      status: 'succeeded',
      progress: 1,
    });
  });

  it('keeps the failure in the contract error shape', async () => {
    current = await createTestApp({ BLOCKED_TERMS: 'forbidden' }, { models: [slowModel(5)] });
    const authorization = await current.bearerFor('alice');
    const accepted = await post(
      current,
      authorization,
      { prompt: 'a forbidden fox' },
      { prefer: 'respond-async' },
    );
    const job = await waitForJob(current, authorization, accepted.json().job_id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ error: 'content_policy_violation' });
  });
});

describe('a job and its result', () => {
  it('are committed together: no poll ever sees a succeeded job without its result', async () => {
    current = await createTestApp({}, { models: [slowModel(20)] });
    const { services } = current;
    const authorization = await current.bearerFor('alice');
    // Right after the charge's commit (the generation's records are written in it), before anything the
    // job does later can run: what a poll at that instant would read.
    const seen: Array<{ status: string; result: string | null }> = [];
    // On SQLite the charge's commit records each image with the store's synchronous insert.
    const generations = services.stores.generations as SqliteGenerationStore;
    const insertNow = generations.insertNow.bind(generations);
    generations.insertNow = (record) => {
      insertNow(record);
      setImmediate(() => {
        seen.push(
          sqliteOf(services).prepare('SELECT status, result FROM jobs WHERE user_id = ?').get('alice') as {
            status: string;
            result: string | null;
          },
        );
      });
    };
    const accepted = await post(current, authorization, { prompt: 'a fox' }, { prefer: 'respond-async' });
    const job = await waitForJob(current, authorization, accepted.json().job_id);
    expect(job.status).toBe('succeeded');
    // The probe was queued inside the charge's commit; a turn queued now runs after it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.status).toBe('succeeded');
    expect(JSON.parse(seen[0]?.result ?? 'null')).toEqual(job.result);
  });
});

describe('Idempotency-Key', () => {
  it('answers a repeat with the first response and charges once; another body with the key is 422', async () => {
    const model = slowModel(30);
    current = await createTestApp({}, { models: [model] });
    const authorization = await current.bearerFor('alice');
    const headers = { 'idempotency-key': 'order-42' };
    const [first, second] = await Promise.all([
      post(current, authorization, { prompt: 'a fox', seed: 1 }, headers),
      post(current, authorization, { seed: 1, prompt: 'a fox' }, headers),
    ]);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json().id).toBe(first.json().id);
    const third = await post(current, authorization, { prompt: 'a fox', seed: 1 }, headers);
    expect(third.json().id).toBe(first.json().id);
    expect(model.calls).toHaveLength(1);
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });

    const conflict = await post(current, authorization, { prompt: 'a wolf' }, headers);
    expect(conflict.statusCode).toBe(422);
    expect(conflict.json().details).toEqual([
      { field: 'Idempotency-Key', message: 'was already used with a different request body' },
    ]);
    // Keys belong to their user: bob's "order-42" is his own.
    expect(
      (await post(current, await current.bearerFor('bob'), { prompt: 'a wolf' }, headers)).statusCode,
    ).toBe(201);
  });
});

describe('Idempotency-Key between a claim and its job', () => {
  // The interleaving the key must survive: the first request has claimed the key, and before it goes on
  // to run its job a second request with the same key looks the key and its job up. Forced here, so it
  // happens every time: the first request's claim answers only once the second has read its job.
  async function interleaveSameKey(environment: Record<string, string>) {
    const model = scriptedModel(onePng);
    current = await createTestApp(environment, { models: [model] });
    const { services } = current;
    const authorization = await current.bearerFor('alice');
    const keys = services.stores.idempotencyKeys;
    const claimKey = keys.claim.bind(keys);
    const getJob = services.stores.jobs.get.bind(services.stores.jobs);
    let firstClaimed: () => void = () => undefined;
    const firstHasClaimed = new Promise<void>((resolve) => {
      firstClaimed = resolve;
    });
    let secondLooked: () => void = () => undefined;
    const secondHasLooked = new Promise<void>((resolve) => {
      secondLooked = resolve;
    });
    let claims = 0;
    keys.claim = async (use, expiredBefore, job) => {
      const claimNumber = ++claims;
      const claimed = await claimKey(use, expiredBefore, job);
      if (claimNumber === 1) {
        firstClaimed();
        await secondHasLooked;
      }
      return claimed;
    };
    services.stores.jobs.get = async (id, userId) => {
      const job = await getJob(id, userId);
      secondLooked();
      return job;
    };
    const headers = { 'idempotency-key': 'order-7' };
    const first = post(current, authorization, { prompt: 'a fox' }, headers);
    await firstHasClaimed;
    const second = post(current, authorization, { prompt: 'a fox' }, headers);
    const [firstAnswer, secondAnswer] = await Promise.all([first, second]);
    expect(firstAnswer.statusCode).toBe(201);
    expect(secondAnswer.statusCode).toBe(201);
    expect(secondAnswer.headers['idempotent-replayed']).toBe('true');
    expect(secondAnswer.json()).toEqual(firstAnswer.json());
    expect(model.calls).toHaveLength(1);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  }

  it('shows a keyed async job that started at once as running, as its 202 says, and replays its result', async () => {
    current = await createTestApp({}, { models: [slowModel(50)] });
    const authorization = await current.bearerFor('alice');
    const headers = { 'idempotency-key': 'poll-1', prefer: 'respond-async' };
    const accepted = await post(current, authorization, { prompt: 'a fox' }, headers);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ status: 'running', position: 0 });
    const jobId = accepted.json().job_id;
    const polled = await current.app.inject({
      method: 'GET',
      url: `/api/v1/jobs/${jobId}`,
      headers: { authorization },
    });
    expect(polled.json().status).not.toBe('queued');
    const job = await waitForJob(current, authorization, jobId);
    expect(job.status).toBe('succeeded');
    const repeated = await post(current, authorization, { prompt: 'a fox' }, headers);
    expect(repeated.statusCode).toBe(201);
    expect(repeated.headers['idempotent-replayed']).toBe('true');
    expect(repeated.json()).toEqual(job.result);
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('runs and charges once when a same-key request comes between the claim and the job, on SQLite', async () => {
    await interleaveSameKey({});
  });

  it('runs and charges once when a same-key request comes between the claim and the job, on PostgreSQL', async () => {
    const database = await createPostgresTestDatabase();
    try {
      await interleaveSameKey({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: String(database.poolSize) });
    } finally {
      await current?.close();
      current = undefined;
      await database.drop();
    }
  }, 60_000);
});

describe('Idempotency-Key after an outcome the caller never got', () => {
  it('runs a retry again after the client hung up, and charges only the image delivered', async () => {
    let firstCallStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      firstCallStarted = resolve;
    });
    const model = scriptedModel((options, callNumber) => {
      if (callNumber > 1) return onePng();
      // The first call works until the caller leaves, like a fetch-based client.
      return new Promise((_resolve, reject) => {
        options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason));
        firstCallStarted();
      });
    });
    current = await createTestApp({}, { models: [model] });
    const authorization = await current.bearerFor('alice');
    const address = await current.app.listen({ host: '127.0.0.1', port: 0 });
    const timedOut = http.request(`${address}/api/v1/generate/image`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', 'idempotency-key': 'upload-7' },
    });
    timedOut.on('error', () => undefined);
    timedOut.end(JSON.stringify({ prompt: 'a fox' }));
    await started;
    timedOut.destroy();
    await vi.waitFor(async () =>
      expect(await current?.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 }),
    );
    await vi.waitFor(() =>
      expect(
        sqliteOf(current?.services).prepare("SELECT status FROM jobs WHERE user_id = 'alice'").get(),
      ).toEqual({ status: 'cancelled' }),
    );

    const retry = await post(current, authorization, { prompt: 'a fox' }, { 'idempotency-key': 'upload-7' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(model.calls).toHaveLength(2);
    // The retry's answer is now the one its key replays.
    const again = await post(current, authorization, { prompt: 'a fox' }, { 'idempotency-key': 'upload-7' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(retry.json().id);
    expect(model.calls).toHaveLength(2);
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('runs a retry again after a failure on our side, but replays a refusal decided before any work', async () => {
    const model = scriptedModel((_options, callNumber) => {
      if (callNumber === 1) throw new ImagineError('provider_unavailable', undefined, { retry_after: 5 });
      return onePng();
    });
    current = await createTestApp({ PLAN_LIMITS: 'free=1' }, { models: [model] });
    const authorization = await current.bearerFor('alice', 'free');
    const outage = await post(current, authorization, { prompt: 'a fox' }, { 'idempotency-key': 'k1' });
    expect(outage.statusCode).toBe(503);
    const retried = await post(current, authorization, { prompt: 'a fox' }, { 'idempotency-key': 'k1' });
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();

    // The plan's one image is used: a 402 is what the caller was told, and it is what a retry replays.
    const refused = await post(current, authorization, { prompt: 'a wolf' }, { 'idempotency-key': 'k2' });
    expect(refused.statusCode).toBe(402);
    const replayed = await post(current, authorization, { prompt: 'a wolf' }, { 'idempotency-key': 'k2' });
    expect(replayed.statusCode).toBe(402);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(refused.json());
    expect(model.calls).toHaveLength(2);
  });

  it('runs a retry again when its first job was lost to a crash', async () => {
    current = await createTestApp({}, { models: [scriptedModel(onePng)] });
    const { services } = current;
    const authorization = await current.bearerFor('alice');
    const crashedJob = await leaveCrashedJob(services, {
      userId: 'alice',
      source: 'api',
      delivery: 'rest',
      request: null,
      hold: { userLimit: 5 },
    });
    await services.idempotencyKeys.claim(
      'alice',
      'k3',
      requestHash({ kind: 'image', body: imageRequestSchema.parse({ prompt: 'a fox' }) }),
      crashedJob,
    );
    expect(await services.jobs.recover()).toBe(1);
    const retry = await post(current, authorization, { prompt: 'a fox' }, { 'idempotency-key': 'k3' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });
});

describe('per-user line', () => {
  it("runs a user's jobs at most MAX_JOBS_PER_USER at a time and shows where the rest stand", async () => {
    let running = 0;
    let mostAtOnce = 0;
    const model = scriptedModel(async () => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 40));
      running--;
      return onePng();
    });
    current = await createTestApp({ MAX_JOBS_PER_USER: '1' }, { models: [model] });
    const authorization = await current.bearerFor('alice', 'pro');
    const answers = await Promise.all(
      [1, 2, 3].map((index) =>
        post(current as TestApp, authorization, { prompt: `fox ${index}` }, { prefer: 'respond-async' }),
      ),
    );
    expect(answers.map((answer) => answer.json().position)).toEqual([0, 1, 2]);
    expect(answers.map((answer) => answer.json().status)).toEqual(['running', 'queued', 'queued']);
    for (const answer of answers)
      expect((await waitForJob(current, authorization, answer.json().job_id)).status).toBe('succeeded');
    expect(mostAtOnce).toBe(1);
  });
});

describe('recovery', () => {
  it('releases the holds of jobs a dead process left, runs polled ones again, and fails the rest with a reason', async () => {
    current = await createTestApp({}, { models: [scriptedModel(onePng)] });
    const { services } = current;
    const authorization = await current.bearerFor('alice');
    // What a process killed mid-generation leaves: two running jobs, each with a quota hold.
    const leftBehind = (delivery: 'rest-async' | 'rest') =>
      leaveCrashedJob(services, {
        userId: 'alice',
        source: 'api',
        delivery,
        request: { prompt: `left behind ${delivery}`, size: '256x256', enhance_prompt: false },
        hold: { userLimit: 5 },
      });
    const polledId = await leftBehind('rest-async');
    const waitedId = await leftBehind('rest');
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ reserved: 2 });

    expect(await services.jobs.recover()).toBe(2);
    const rerun = await waitForJob(current, authorization, polledId);
    expect(rerun).toMatchObject({ status: 'succeeded', result: { success: true } });
    const failed = await waitForJob(current, authorization, waitedId);
    expect(failed).toMatchObject({ status: 'failed', error: { error: 'provider_unavailable' } });
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
    expect(await services.ledger.pendingReservationIds()).toEqual([]);
    expect(storedImageFiles(services)).toHaveLength(1);
  });

  it('removes an image a crash left stored but unrecorded, and keeps every recorded one', async () => {
    current = await createTestApp({}, { models: [scriptedModel(onePng)] });
    const { services } = current;
    const authorization = await current.bearerFor('alice');
    const delivered = await post(current, authorization, { prompt: 'a fox', size: '256x256' });
    expect(delivered.statusCode).toBe(201);
    // The process died between storing the image and recording it: the file exists, nothing points at it.
    const unrecordedId = services.jobs.newJobId();
    await services.storage.save({
      key: imageKey('alice', unrecordedId, 'png'),
      bytes: onePng()[0]?.bytes ?? new Uint8Array(),
      contentType: 'image/png',
    });
    await leaveCrashedJob(services, {
      userId: 'alice',
      source: 'api',
      delivery: 'rest',
      request: null,
      hold: { userLimit: 5, imageIds: [unrecordedId] },
    });
    expect(storedImageFiles(services)).toHaveLength(2);

    expect(await services.jobs.recover()).toBe(1);
    await vi.waitFor(() => expect(storedImageFiles(services)).toHaveLength(1));
    expect(storedImageFiles(services)[0]).toContain(delivered.json().id);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });
});

describe('polling', () => {
  /** A model that holds every call until `release()`, so jobs stay running while the test looks at them. */
  function gatedModel() {
    let release: () => void = () => {};
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    return {
      model: scriptedModel(async () => {
        await opened;
        return onePng();
      }),
      release: () => release(),
    };
  }

  /** Job rows go out in a group commit at the end of the turn; `inject()` alone never ends one. */
  const rowsCommitted = () => new Promise((resolve) => setImmediate(resolve));

  function getJob(testApp: TestApp, authorization: string, jobId: string) {
    return testApp.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: { authorization } });
  }

  it('polls 20 async jobs 30 times each within a minute without a 429', async () => {
    const gate = gatedModel();
    current = await createTestApp({}, { models: [gate.model] });
    const authorization = await current.bearerFor('alice', 'pro');
    const jobIds: string[] = [];
    for (let index = 0; index < 20; index++) {
      const accepted = await post(
        current,
        authorization,
        { prompt: `fox ${index}` },
        { prefer: 'respond-async' },
      );
      expect(accepted.statusCode).toBe(202);
      jobIds.push(accepted.json().job_id);
    }
    await rowsCommitted();
    const statuses = new Set<number>();
    for (let round = 0; round < 30; round++) {
      for (const jobId of jobIds) statuses.add((await getJob(current, authorization, jobId)).statusCode);
    }
    expect([...statuses]).toEqual([200]);
    gate.release();
  });

  it('refuses the 61st generation request in a minute in the contract shape, and reads go on', async () => {
    current = await createTestApp({}, { models: [scriptedModel(onePng)] });
    const authorization = await current.bearerFor('alice', 'pro');
    const generate = (url: string) =>
      current?.app.inject({
        method: 'POST',
        url,
        payload: url.endsWith('/batch') ? { prompt: 'a fox', num_images: 1 } : { prompt: 'a fox' },
        headers: { authorization, prefer: 'respond-async' },
      });
    // The single-image and batch routes draw on one allowance.
    for (let index = 0; index < 60; index++) {
      const answer = await generate(index % 2 ? '/api/v1/generate/image/batch' : '/api/v1/generate/image');
      expect(answer?.statusCode).toBe(202);
    }
    const refused = await generate('/api/v1/generate/image/batch');
    expect(refused?.statusCode).toBe(429);
    const retryAfter = Number(refused?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(refused?.json()).toEqual({
      error: 'rate_limited',
      message: 'Too many requests: at most 60 a minute',
      retry_after: retryAfter,
    });
    const usage = await current.app.inject({
      method: 'GET',
      url: '/api/v1/usage',
      headers: { authorization },
    });
    expect(usage.statusCode).toBe(200);
  });

  it('tells the client when to poll: Retry-After on the 202 and on a job still in progress', async () => {
    const gate = gatedModel();
    current = await createTestApp({ MAX_JOBS_PER_USER: '1' }, { models: [gate.model] });
    const authorization = await current.bearerFor('alice', 'pro');
    const answers = [];
    for (const index of [1, 2, 3])
      answers.push(
        await post(current, authorization, { prompt: `fox ${index}` }, { prefer: 'respond-async' }),
      );
    await rowsCommitted();
    // Running: a second; queued behind others: longer, the further back the longer.
    const waits = answers.map((answer) => Number(answer.headers['retry-after']));
    expect(waits[0]).toBe(1);
    expect(waits[1]).toBeGreaterThan(1);
    expect(waits[2]).toBeGreaterThan(waits[1] as number);

    const running = await getJob(current, authorization, answers[0]?.json().job_id);
    expect(running.json().status).toBe('running');
    expect(running.headers['retry-after']).toBe('1');
    const queued = await getJob(current, authorization, answers[2]?.json().job_id);
    expect(queued.json()).toMatchObject({ status: 'queued', position: 2 });
    expect(queued.headers['retry-after']).toBe(String(waits[2]));

    gate.release();
    const done = await waitForJob(current, authorization, answers[0]?.json().job_id);
    expect(done.status).toBe('succeeded');
    const finished = await getJob(current, authorization, done.id);
    expect(finished.headers['retry-after']).toBeUndefined();
  });
});
