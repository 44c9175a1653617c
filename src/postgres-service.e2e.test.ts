/**
 * The REST contract on PostgreSQL (DATABASE_URL), end to end through the real app: generate, batch, async
 * jobs, history, usage, idempotent retries, quota and provider refusals that keep nothing, `/health`, and
 * a database that goes away while serving (503 and a contract error, never a stack or the URL's password).
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactedPaths } from './logger.ts';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from './test-support/postgres-test-database.ts';
import { createTestApp, type TestApp } from './test-support/test-app.ts';
import { onePng, scriptedModel, storedImageFiles, type TestOverrides } from './test-support/test-services.ts';

// Starting PGlite (WebAssembly), when no server answers, takes seconds on a small machine.
const startUpMs = 60_000;

let database: PostgresTestDatabase | undefined;
let current: TestApp | undefined;
let proxy: DatabaseProxy | undefined;

beforeEach(async () => {
  database = await createPostgresTestDatabase();
}, startUpMs);

afterEach(async () => {
  await current?.close();
  current = undefined;
  await proxy?.close();
  proxy = undefined;
  await database?.drop();
  database = undefined;
});

function postgresEnvironment(url = database?.url ?? ''): Record<string, string> {
  return { DATABASE_URL: url, DATABASE_POOL_SIZE: String(database?.poolSize ?? 1) };
}

async function start(overrides: TestOverrides = {}, url?: string): Promise<TestApp> {
  current = await createTestApp(postgresEnvironment(url), overrides);
  return current;
}

function post(testApp: TestApp, url: string, body: object, headers: Record<string, string>) {
  return testApp.app.inject({ method: 'POST', url, payload: body, headers });
}

function get(testApp: TestApp, url: string, authorization: string) {
  return testApp.app.inject({ method: 'GET', url, headers: { authorization } });
}

/** The user was charged nothing and holds nothing, and nothing of theirs was recorded or stored. */
async function expectNothingKept(testApp: TestApp, userId: string) {
  expect(await testApp.services.ledger.usage(userId, 5)).toMatchObject({ used: 0, reserved: 0 });
  expect(await testApp.services.ledger.pendingReservationIds()).toEqual([]);
  expect(
    (await testApp.services.records.listForUser(userId, { limit: 10, cursor: undefined })).records,
  ).toEqual([]);
  expect(storedImageFiles(testApp.services)).toEqual([]);
}

describe('the REST contract on PostgreSQL', () => {
  it(
    'generates: 201 with the contract fields, recorded on PostgreSQL and served',
    async () => {
      const testApp = await start();
      expect(testApp.services.database).toBeUndefined(); // no SQLite file behind it
      const authorization = await testApp.bearerFor('alice');
      const response = await post(
        testApp,
        '/api/v1/generate/image',
        { prompt: 'a lighthouse', size: '512x512', style: 'realistic' },
        { authorization },
      );
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(Object.keys(body)).toEqual(
        expect.arrayContaining([
          'success',
          'image_url',
          'model',
          'generation_time',
          'cost',
          'size',
          'quality',
          'prompt_used',
          'timestamp',
        ]),
      );
      expect(body).toMatchObject({ success: true, model: 'placeholder', cost: 0, size: '512x512' });
      expect(body.usage).toEqual({ used: 1, limit: 5, remaining: 4 });
      const image = await testApp.app.inject({ method: 'GET', url: new URL(body.image_url).pathname });
      expect(image.statusCode).toBe(200);
      expect(image.headers['content-type']).toBe('image/png');
      expect(
        (await testApp.services.records.listForUser('alice', { limit: 10, cursor: undefined })).records,
      ).toHaveLength(1);
    },
    startUpMs,
  );

  it(
    'generates a batch and charges each image',
    async () => {
      const testApp = await start();
      const authorization = await testApp.bearerFor('pro-user', 'pro');
      const response = await post(
        testApp,
        '/api/v1/generate/image/batch',
        { prompt: 'a lighthouse', num_images: 3, size: '256x256' },
        { authorization },
      );
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({ success: true, count: 3, failed: 0, total_cost: 0 });
      expect(new Set(body.images.map((image: { image_url: string }) => image.image_url)).size).toBe(3);
      expect(await testApp.services.ledger.usage('pro-user', 200)).toMatchObject({ used: 3, reserved: 0 });
    },
    startUpMs,
  );

  it(
    'answers 202 for an async job and the poll ends succeeded with the synchronous response',
    async () => {
      const slow = scriptedModel(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return onePng();
      });
      const testApp = await start({ models: [slow] });
      const authorization = await testApp.bearerFor('alice');
      const accepted = await post(
        testApp,
        '/api/v1/generate/image',
        { prompt: 'a fox' },
        { authorization, prefer: 'respond-async' },
      );
      expect(accepted.statusCode).toBe(202);
      const { job_id: jobId, status_url: statusUrl } = accepted.json();
      expect(accepted.headers.location).toBe(statusUrl);
      let job: { status: string; result?: unknown } = { status: 'queued' };
      while (job.status !== 'succeeded' && job.status !== 'failed') {
        job = (await get(testApp, statusUrl, authorization)).json();
        if (job.status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(job).toMatchObject({ id: jobId, status: 'succeeded' });
      expect(job.result).toMatchObject({ success: true, model: 'placeholder', usage: { used: 1 } });
      expect((await get(testApp, statusUrl, await testApp.bearerFor('bob'))).statusCode).toBe(404);
    },
    startUpMs,
  );

  it(
    'lists the history newest first, page by page, and reports usage',
    async () => {
      const testApp = await start();
      const authorization = await testApp.bearerFor('alice', 'pro');
      for (const prompt of ['first', 'second', 'third']) {
        const made = await post(
          testApp,
          '/api/v1/generate/image',
          { prompt, size: '256x256', enhance_prompt: false },
          { authorization },
        );
        expect(made.statusCode).toBe(201);
      }
      const firstPage = (await get(testApp, '/api/v1/images?limit=2', authorization)).json();
      expect(firstPage.images.map((image: { prompt: string }) => image.prompt)).toEqual(['third', 'second']);
      expect(firstPage.next_cursor).toEqual(expect.any(String));
      const secondPage = (
        await get(testApp, `/api/v1/images?limit=2&cursor=${firstPage.next_cursor}`, authorization)
      ).json();
      expect(secondPage.images.map((image: { prompt: string }) => image.prompt)).toEqual(['first']);
      expect(secondPage.next_cursor).toBeNull();
      expect((await get(testApp, '/api/v1/images?cursor=nonsense', authorization)).statusCode).toBe(422);

      const usage = (await get(testApp, '/api/v1/usage', authorization)).json();
      expect(usage).toMatchObject({ plan: 'pro', used: 3, reserved: 0, linked_identities: [] });
      expect(usage.remaining).toBe(usage.limit - 3);
    },
    startUpMs,
  );

  it(
    'replays the first response to a retry with the same Idempotency-Key, and charges once',
    async () => {
      const model = scriptedModel(onePng);
      const testApp = await start({ models: [model] });
      const authorization = await testApp.bearerFor('alice');
      const headers = { authorization, 'idempotency-key': 'order-42' };
      const [first, second] = await Promise.all([
        post(testApp, '/api/v1/generate/image', { prompt: 'a fox', seed: 1 }, headers),
        post(testApp, '/api/v1/generate/image', { seed: 1, prompt: 'a fox' }, headers),
      ]);
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.json().id).toBe(first.json().id);
      const third = await post(testApp, '/api/v1/generate/image', { prompt: 'a fox', seed: 1 }, headers);
      expect(third.statusCode).toBe(201);
      expect(third.json()).toEqual(first.json());
      expect(model.calls).toHaveLength(1);
      expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
      const conflict = await post(testApp, '/api/v1/generate/image', { prompt: 'a wolf' }, headers);
      expect(conflict.statusCode).toBe(422);
    },
    startUpMs,
  );

  it(
    'answers 402 once the quota is used, holding nothing',
    async () => {
      const testApp = await start();
      const authorization = await testApp.bearerFor('alice');
      for (let index = 0; index < 5; index++) {
        const made = await post(
          testApp,
          '/api/v1/generate/image',
          { prompt: `cat ${index}` },
          { authorization },
        );
        expect(made.statusCode).toBe(201);
      }
      const refused = await post(
        testApp,
        '/api/v1/generate/image',
        { prompt: 'one more' },
        { authorization },
      );
      expect(refused.statusCode).toBe(402);
      expect(refused.json()).toEqual({
        error: 'graphics_limit_reached',
        message: 'Monthly graphics limit reached: 5 images',
        used: 5,
        limit: 5,
      });
      expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 5, reserved: 0 });
      expect(await testApp.services.ledger.pendingReservationIds()).toEqual([]);
    },
    startUpMs,
  );

  it(
    'answers 502 when the provider fails, releasing the hold and recording nothing',
    async () => {
      const failing = scriptedModel(() => {
        throw new Error('upstream exploded: secret internals');
      });
      const testApp = await start({ models: [failing] });
      const response = await post(
        testApp,
        '/api/v1/generate/image',
        { prompt: 'a fox' },
        { authorization: await testApp.bearerFor('alice') },
      );
      expect(response.statusCode).toBe(502);
      expect(response.json()).toEqual({
        error: 'generation_failed',
        message: 'The image could not be generated',
      });
      await expectNothingKept(testApp, 'alice');
    },
    startUpMs,
  );

  it(
    'reports the database ok on /health',
    async () => {
      const testApp = await start();
      const response = await testApp.app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ status: 'ok', database: 'ok', storage: 'ok' });
    },
    startUpMs,
  );

  it(
    'answers 503 on /health and a contract error to generate when the database is unreachable',
    async () => {
      const target = new URL(database?.url ?? '');
      proxy = await startDatabaseProxy(Number(target.port), target.hostname);
      // A password in the URL (trust auth ignores it): it must reach neither a response nor a log line.
      const password = 'pg-secret-do-not-leak';
      const url = `postgres://${target.username}:${password}@127.0.0.1:${proxy.port}${target.pathname}`;
      const lines: string[] = [];
      const logger = pino(
        { level: 'trace', redact: { paths: redactedPaths, censor: '[redacted]' } },
        new Writable({
          write(chunk, _encoding, done) {
            lines.push(String(chunk));
            done();
          },
        }),
      );
      const testApp = await start({ logger }, url);
      const authorization = await testApp.bearerFor('alice');
      expect((await testApp.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

      await proxy.cut();
      const health = await testApp.app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: 'degraded', database: 'error' });

      const refused = await post(testApp, '/api/v1/generate/image', { prompt: 'a fox' }, { authorization });
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toEqual({
        error: 'database_unavailable',
        message: 'The service cannot reach its database right now; try again shortly',
        retry_after: 5,
      });
      expect(refused.headers['retry-after']).toBe('5');
      for (const text of [health.body, refused.body, lines.join('')]) {
        expect(text).not.toContain(password);
      }
      for (const text of [health.body, refused.body]) {
        expect(text).not.toMatch(/ECONNREFUSED|\bat .*\.ts:\d+/); // neither the driver's error nor a stack
        expect(text).not.toContain(String(proxy.port));
      }
    },
    startUpMs,
  );
});

/** A TCP relay in front of the database, to take it away while the app serves. */
interface DatabaseProxy {
  port: number;
  /** Drops every connection and refuses new ones, as a database host that went down. */
  cut(): Promise<void>;
  close(): Promise<void>;
}

async function startDatabaseProxy(targetPort: number, targetHost: string): Promise<DatabaseProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  let open = true;
  const cut = async () => {
    if (!open) return;
    open = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return { port: typeof address === 'object' && address ? address.port : 0, cut, close: cut };
}
