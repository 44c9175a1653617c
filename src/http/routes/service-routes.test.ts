import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { redactedPaths } from '../../logger.ts';
import { createServices } from '../../services.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { temporaryDataDir } from '../../test-support/test-services.ts';
import { buildApp } from '../build-app.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(environment: Record<string, string> = {}): Promise<TestApp> {
  current = await createTestApp(environment);
  return current;
}

describe('service routes', () => {
  it('reports health with database, storage and provider readiness, without auth', async () => {
    const testApp = await start();
    const response = await testApp.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ok',
      database: 'ok',
      storage: 'ok',
      disk: { status: 'ok', free_mb: expect.any(Number), min_free_mb: 64 },
      provider: {
        default_model: 'placeholder',
        ready: true,
        models: ['placeholder'],
        readiness: [{ id: 'placeholder', provider: 'placeholder', ready: true }],
      },
    });
  });

  it('serves the OpenAPI document and the interactive docs page, without auth', async () => {
    const testApp = await start();
    const document = (await testApp.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/generate/image',
        '/api/v1/generate/image/batch',
        '/api/v1/styles',
        '/api/v1/models',
        '/api/v1/usage',
        '/api/v1/images',
        '/api/v1/account/link-codes',
        '/health',
      ]),
    );
    const bodyRef =
      document.paths['/api/v1/generate/image'].post.requestBody.content['application/json'].schema;
    expect(bodyRef).toEqual({ $ref: '#/components/schemas/ImageGenerationRequest' });
    const body = document.components.schemas.ImageGenerationRequest;
    expect(body.required).toContain('prompt');
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(['prompt', 'size', 'style', 'aspect_ratio', 'enhance_prompt']),
    );
    const docs = await testApp.app.inject({ method: 'GET', url: '/docs' });
    const page =
      docs.statusCode === 302
        ? await testApp.app.inject({ method: 'GET', url: docs.headers.location as string })
        : docs;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  it('lists the style presets', async () => {
    const testApp = await start();
    const response = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/styles',
      headers: { authorization: await testApp.bearerFor('alice') },
    });
    const names = response.json().styles.map((style: { name: string }) => style.name);
    expect(names.length).toBeGreaterThanOrEqual(12);
    expect(names).toEqual(expect.arrayContaining(['realistic', 'anime', 'watercolor']));
  });

  it("reports the caller's usage with the reset date", async () => {
    const testApp = await start();
    const authorization = await testApp.bearerFor('alice');
    await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/generate/image',
      payload: { prompt: 'a' },
      headers: { authorization },
    });
    const usage = (
      await testApp.app.inject({ method: 'GET', url: '/api/v1/usage', headers: { authorization } })
    ).json();
    expect(usage).toMatchObject({
      plan: 'free',
      used: 1,
      limit: 5,
      remaining: 4,
      reserved: 0,
      linked_identities: [],
    });
    const now = new Date();
    const firstOfNextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    expect(usage.resets_at).toBe(firstOfNextMonth.toISOString().replace('.000Z', 'Z'));
  });

  it('pages through the history newest first', async () => {
    const testApp = await start();
    const authorization = await testApp.bearerFor('alice', 'pro');
    for (const prompt of ['first', 'second', 'third']) {
      await testApp.app.inject({
        method: 'POST',
        url: '/api/v1/generate/image',
        payload: { prompt, size: '256x256', enhance_prompt: false },
        headers: { authorization },
      });
    }
    const firstPage = (
      await testApp.app.inject({ method: 'GET', url: '/api/v1/images?limit=2', headers: { authorization } })
    ).json();
    expect(firstPage.images.map((image: { prompt: string }) => image.prompt)).toEqual(['third', 'second']);
    expect(firstPage.next_cursor).toEqual(expect.any(String));
    const secondPage = (
      await testApp.app.inject({
        method: 'GET',
        url: `/api/v1/images?limit=2&cursor=${firstPage.next_cursor}`,
        headers: { authorization },
      })
    ).json();
    expect(secondPage.images.map((image: { prompt: string }) => image.prompt)).toEqual(['first']);
    expect(secondPage.next_cursor).toBeNull();
    const otherUser = (
      await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/images',
        headers: { authorization: await testApp.bearerFor('bob') },
      })
    ).json();
    expect(otherUser.images).toEqual([]);
    const badCursor = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/images?cursor=nonsense',
      headers: { authorization },
    });
    expect(badCursor.statusCode).toBe(422);
  });

  it('issues a link code the bots can redeem within ten minutes', async () => {
    const testApp = await start();
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/account/link-codes',
      headers: { authorization: await testApp.bearerFor('alice', 'pro') },
    });
    expect(response.statusCode).toBe(201);
    const { code, expires_in } = response.json();
    expect(code).toMatch(/^[A-Z2-9]{8}$/);
    expect(expires_in).toBe(600);
    expect(await testApp.services.linkCodes.redeem(code, 'discord:42')).toBe('alice');
    expect((await testApp.services.accounts.chatCaller('discord:42')).plan.name).toBe('pro');
  });

  it('never serves a file outside the images folder', async () => {
    const testApp = await start();
    for (const url of [
      '/images/../imagine.sqlite',
      '/images/%2e%2e/imagine.sqlite',
      '/images/..%2fimagine.sqlite',
      '/images/%2e%2e%2fdemo-api-key.txt',
      '/images/alice/missing.png',
    ]) {
      const response = await testApp.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.body).not.toContain('SQLite');
    }
  });

  it('echoes a request id and keeps a caller-supplied one', async () => {
    const testApp = await start();
    const given = await testApp.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(given.headers['x-request-id']).toBe('trace-123');
    const generated = await testApp.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'bad id!' },
    });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 in the error shape for unknown routes', async () => {
    const testApp = await start();
    const response = await testApp.app.inject({ method: 'GET', url: '/api/v2/nothing' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'not_found' });
  });

  it('answers 500 internal_error with the request id and no stack when something breaks', async () => {
    const testApp = await start();
    const authorization = await testApp.bearerFor('alice');
    sqliteOf(testApp.services).exec('DROP TABLE quota_counters');
    const response = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/usage',
      headers: { authorization, 'x-request-id': 'req-500' },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: 'internal_error',
      message: expect.stringContaining('request id'),
      request_id: 'req-500',
    });
    expect(response.body).not.toMatch(/quota_counters|at .*\.ts/);
  });
});

describe('logging', () => {
  it('never writes an API key or token to the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'trace', redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: temporaryDataDir() });
    const services = await createServices(config, logger);
    const app = await buildApp(services);
    const key = await services.apiKeys.create('alice');
    // Fastify logs request headers only when asked; make sure that path is redacted too.
    app.addHook('onRequest', async (request) => {
      request.log.info({ headers: request.headers }, 'headers');
    });
    await app.inject({ method: 'GET', url: '/api/v1/usage', headers: { authorization: `Bearer ${key}` } });
    await app.close();
    await services.close();
    const output = lines.join('');
    expect(output).toContain('[redacted]');
    expect(output).not.toContain(key);
  });
});
