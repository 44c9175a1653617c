/**
 * REDIS_URL: the per-minute rate limits are counted in one Redis by every instance, and a Redis that is
 * unreachable (at start or mid-run) lets requests through with a warning in the log, never a 5xx. Without
 * REDIS_URL each instance counts its own, as before. Runs against whatever Redis the machine allows
 * (src/test-support/test-redis.ts), so it never skips.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { capturingLogger } from '../test-support/capturing-logger.ts';
import { freePort } from '../test-support/server-process.ts';
import { createTestApp, type TestApp } from '../test-support/test-app.ts';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.ts';

let redis: TestRedis;
const apps: TestApp[] = [];

beforeEach(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  for (const testApp of apps.splice(0)) await testApp.close();
  await redis.close();
});

/** An instance of its own (its own services and database) counting in the test's Redis. */
async function instance(environment: Record<string, string>, logger?: Logger): Promise<TestApp> {
  const testApp = await createTestApp(
    { ...redis.environment, ...environment },
    { ...redis.overrides(), ...(logger ? { logger } : {}) },
  );
  apps.push(testApp);
  return testApp;
}

/** The same user (pro plan, so the monthly quota is far off) on each instance, with a key from each. */
async function sameUser(instances: TestApp[], userId: string): Promise<string[]> {
  return Promise.all(instances.map((testApp) => testApp.bearerFor(userId, 'pro')));
}

function generate(testApp: TestApp, authorization: string) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: { prompt: 'a lighthouse', size: '256x256' },
    headers: { authorization },
  });
}

function usage(testApp: TestApp, authorization: string) {
  return testApp.app.inject({ method: 'GET', url: '/api/v1/usage', headers: { authorization } });
}

function statusCounts(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

function warnings(lines: string[]): { msg: string }[] {
  return lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
}

describe('rate limits shared through Redis', () => {
  it('hold across two instances: limit 5, so 5 of 8 generations pass and 3 get 429 with retry info', async () => {
    const one = await instance({ RATE_LIMIT_PER_MINUTE: '5' });
    const two = await instance({ RATE_LIMIT_PER_MINUTE: '5' });
    const [onOne = '', onTwo = ''] = await sameUser([one, two], 'alice');
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        index % 2 === 0 ? generate(one, onOne) : generate(two, onTwo),
      ),
    );
    expect(statusCounts(responses.map((response) => response.statusCode))).toEqual({ 201: 5, 429: 3 });
    for (const limited of responses.filter((response) => response.statusCode === 429)) {
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0' });
      expect(limited.json()).toEqual({
        error: 'rate_limited',
        message: 'Too many requests: at most 5 a minute',
        retry_after: retryAfter,
      });
    }
    // Either instance now refuses alice; bob, on the same Redis, has his own allowance.
    expect((await generate(one, onOne)).statusCode).toBe(429);
    expect((await generate(two, onTwo)).statusCode).toBe(429);
    const [bob = ''] = await sameUser([two], 'bob');
    expect((await generate(two, bob)).statusCode).toBe(201);
  });

  it('count reads apart from generations, so polling never uses up the generation allowance', async () => {
    const environment = { RATE_LIMIT_PER_MINUTE: '2', READ_RATE_LIMIT_PER_MINUTE: '3' };
    const one = await instance(environment);
    const two = await instance(environment);
    const [onOne = '', onTwo = ''] = await sameUser([one, two], 'alice');
    const reads = [usage(one, onOne), usage(two, onTwo), usage(one, onOne), usage(two, onTwo)];
    expect((await Promise.all(reads)).map((response) => response.statusCode).sort()).toEqual([
      200, 200, 200, 429,
    ]);
    expect((await generate(one, onOne)).statusCode).toBe(201);
    expect((await generate(two, onTwo)).statusCode).toBe(201);
    expect((await generate(one, onOne)).statusCode).toBe(429);
  });

  it('name keys by budget and user id, never by API key', async () => {
    const one = await instance({});
    const [key = ''] = await sameUser([one], 'alice');
    expect((await generate(one, key)).statusCode).toBe(201);
    expect((await usage(one, key)).statusCode).toBe(200);
    const inspector = await redis.inspector();
    const prefix = redis.environment.REDIS_KEY_PREFIX;
    expect((await inspector.keys(`${prefix}*`)).sort()).toEqual([
      `${prefix}rate-limit:generation:alice`,
      `${prefix}rate-limit:read:alice`,
    ]);
    expect(Number(await inspector.get(`${prefix}rate-limit:generation:alice`))).toBe(1);
  });

  it('let requests through with a warning while Redis is down mid-run, and count again once it is back', async () => {
    const capture = capturingLogger('warn');
    const one = await instance({ RATE_LIMIT_PER_MINUTE: '3' }, capture.logger);
    const [key = ''] = await sameUser([one], 'alice');
    expect((await generate(one, key)).statusCode).toBe(201);
    expect((await generate(one, key)).statusCode).toBe(201);

    await redis.stop();
    const whileDown = [];
    for (let index = 0; index < 5; index++) whileDown.push((await generate(one, key)).statusCode);
    expect(whileDown).toEqual([201, 201, 201, 201, 201]);
    const logged = warnings(capture.lines).filter((line) => line.msg.startsWith('redis unreachable'));
    expect(logged.length).toBeGreaterThan(0);
    // Throttled: not a line per request.
    expect(logged.length).toBeLessThan(whileDown.length);
    const health = await one.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', redis: 'unreachable' });

    await redis.restart();
    await vi.waitFor(
      async () => expect((await one.app.inject({ method: 'GET', url: '/health' })).json().redis).toBe('ok'),
      { timeout: 15_000, interval: 100 },
    );
    // The two counted before the outage still count: one more, then the limit.
    expect((await generate(one, key)).statusCode).toBe(201);
    expect((await generate(one, key)).statusCode).toBe(429);
  });

  it('start and serve when Redis is unreachable from the start, without logging its password', async () => {
    const capture = capturingLogger('warn');
    const port = await freePort();
    const testApp = await createTestApp(
      {
        REDIS_URL: `redis://:hunter2-redis-password@127.0.0.1:${port}`,
        REDIS_KEY_PREFIX: redis.environment.REDIS_KEY_PREFIX,
        RATE_LIMIT_PER_MINUTE: '2',
      },
      { logger: capture.logger },
    );
    apps.push(testApp);
    const key = await testApp.bearerFor('alice', 'pro');
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await generate(testApp, key)).statusCode);
    expect(statuses).toEqual([201, 201, 201, 201]);
    const health = await testApp.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', redis: 'unreachable' });
    expect(warnings(capture.lines).some((line) => line.msg.startsWith('redis unreachable'))).toBe(true);
    expect(capture.output()).not.toContain('hunter2');

    // Closing the service closes its client, which stops reconnecting in the background.
    const client = testApp.services.redis?.client;
    const disconnect = vi.spyOn(client as NonNullable<typeof client>, 'disconnect');
    apps.splice(apps.indexOf(testApp), 1);
    await testApp.close();
    expect(disconnect).toHaveBeenCalledOnce();
  });

  it('serve when Redis accepts connections but never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const capture = capturingLogger('warn');
    try {
      const address = silent.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const testApp = await createTestApp(
        {
          REDIS_URL: `redis://127.0.0.1:${port}`,
          REDIS_KEY_PREFIX: redis.environment.REDIS_KEY_PREFIX,
          RATE_LIMIT_PER_MINUTE: '1',
        },
        { logger: capture.logger },
      );
      apps.push(testApp);
      const key = await testApp.bearerFor('alice', 'pro');
      expect((await generate(testApp, key)).statusCode).toBe(201);
      expect((await generate(testApp, key)).statusCode).toBe(201);
      const health = await testApp.app.inject({ method: 'GET', url: '/health' });
      expect(health.json()).toMatchObject({ status: 'ok', redis: 'unreachable' });
      expect(warnings(capture.lines).some((line) => line.msg.startsWith('redis unreachable'))).toBe(true);
    } finally {
      for (const testApp of apps.splice(0)) await testApp.close();
      silent.close();
    }
  });
});

describe('rate limits without REDIS_URL', () => {
  it('are counted by each instance on its own, and /health says nothing of Redis', async () => {
    const environment = { RATE_LIMIT_PER_MINUTE: '2' };
    const one = await createTestApp(environment);
    const two = await createTestApp(environment);
    apps.push(one, two);
    const [onOne = '', onTwo = ''] = await sameUser([one, two], 'alice');
    for (const [testApp, key] of [
      [one, onOne],
      [two, onTwo],
    ] as const) {
      expect((await generate(testApp, key)).statusCode).toBe(201);
      expect((await generate(testApp, key)).statusCode).toBe(201);
      expect((await generate(testApp, key)).statusCode).toBe(429);
    }
    const health = (await one.app.inject({ method: 'GET', url: '/health' })).json();
    expect(health).not.toHaveProperty('redis');
    expect(one.services.redis).toBeUndefined();
  });
});
