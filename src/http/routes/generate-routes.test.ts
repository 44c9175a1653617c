import http from 'node:http';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { onePng, scriptedModel, storedImageFiles } from '../../test-support/test-services.ts';

/** The request body from the reference integration note. */
const referenceBody = {
  prompt: 'Flutter logo in office of pakistan',
  size: '1024x1024',
  style: 'realistic',
  aspect_ratio: '1:1',
  enhance_prompt: true,
};

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(...parameters: Parameters<typeof createTestApp>): Promise<TestApp> {
  current = await createTestApp(...parameters);
  return current;
}

/** The user was charged nothing, and nothing of theirs was recorded or stored. */
async function expectNothingKept(testApp: TestApp, userId: string) {
  expect(await testApp.services.ledger.usage(userId, 5)).toMatchObject({ used: 0, reserved: 0 });
  expect(
    (await testApp.services.records.listForUser(userId, { limit: 10, cursor: undefined })).records,
  ).toEqual([]);
  expect(storedImageFiles(testApp.services)).toEqual([]);
}

function post(testApp: TestApp, url: string, body: unknown, authorization: string) {
  return testApp.app.inject({ method: 'POST', url, payload: body as object, headers: { authorization } });
}

describe('POST /api/v1/generate/image', () => {
  it('returns 201 with every contract field and a stored PNG of the stated size', async () => {
    const testApp = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      referenceBody,
      await testApp.bearerFor('alice'),
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
    expect(body).toMatchObject({
      success: true,
      model: 'placeholder',
      cost: 0,
      size: '1024x1024',
      quality: 'high',
    });
    expect(body.prompt_used).toMatch(/^Flutter logo in office of pakistan, photorealistic/);
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(typeof body.generation_time).toBe('number');
    expect(body.usage).toEqual({ used: 1, limit: 5, remaining: 4 });
    expect(body.image_url).toMatch(/^http:\/\/localhost:8000\/images\/alice\/[0-9a-f-]{36}\.png$/);

    const image = await testApp.app.inject({ method: 'GET', url: new URL(body.image_url).pathname });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
    const metadata = await sharp(image.rawPayload).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 1024, height: 1024 });
  });

  it('warns about an ignored negative prompt only when the caller wrote one', async () => {
    const testApp = await start();
    const authorization = await testApp.bearerFor('alice');
    const styled = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox', style: 'anime' },
      authorization,
    );
    expect(styled.json().warnings).toEqual([]);
    const negative = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox', negative_prompt: 'people' },
      authorization,
    );
    expect(negative.json().warnings).toEqual([
      expect.objectContaining({ type: 'unsupported', feature: 'negative_prompt' }),
    ]);
  });

  it('shapes the image by aspect_ratio within the size budget', async () => {
    const testApp = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a wide valley', aspect_ratio: '16:9' },
      await testApp.bearerFor('alice'),
    );
    expect(response.json().size).toBe('1360x768');
    const image = await testApp.app.inject({
      method: 'GET',
      url: new URL(response.json().image_url).pathname,
    });
    expect(await sharp(image.rawPayload).metadata()).toMatchObject({ width: 1360, height: 768 });
  });

  it('answers 402 with exactly the contract body once the plan limit is used', async () => {
    const testApp = await start();
    const bearer = await testApp.bearerFor('alice');
    for (let index = 0; index < 5; index++) {
      expect(
        (await post(testApp, '/api/v1/generate/image', { prompt: `cat ${index}` }, bearer)).statusCode,
      ).toBe(201);
    }
    const refused = await post(testApp, '/api/v1/generate/image', { prompt: 'one more cat' }, bearer);
    expect(refused.statusCode).toBe(402);
    expect(refused.json()).toEqual({
      error: 'graphics_limit_reached',
      message: 'Monthly graphics limit reached: 5 images',
      used: 5,
      limit: 5,
    });
  });

  it('gives exactly 5 × 201 and 45 × 402 to 50 concurrent requests with 5 left', async () => {
    const testApp = await start();
    const bearer = await testApp.bearerFor('alice');
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        post(testApp, '/api/v1/generate/image', { prompt: `concurrent ${index}`, size: '256x256' }, bearer),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(5);
    expect(statuses.filter((status) => status === 402)).toHaveLength(45);
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 5, reserved: 0 });
  });

  it('refuses a model the plan does not include with 403 and the model and plan', async () => {
    const testApp = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox', model: 'dall-e-3' },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: 'model_not_allowed', model: 'dall-e-3', plan: 'free' });
  });

  it('answers 503 provider_unavailable for an allowed model whose provider is not configured', async () => {
    const testApp = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox', model: 'dall-e-3' },
      await testApp.bearerFor('boss', 'enterprise'),
    );
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: 'provider_unavailable' });
    expect((await testApp.services.ledger.usage('boss', 2000)).used).toBe(0);
  });

  it('refuses a blocked prompt with 422 content_policy_violation and charges nothing', async () => {
    const testApp = await start({ BLOCKED_TERMS: 'gore,blood bath' });
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'A Blood   Bath at dawn' },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: 'content_policy_violation' });
    expect(response.json().message).not.toMatch(/blood/i);
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it('answers 502 generation_failed when the provider fails, and releases the quota', async () => {
    const failing = scriptedModel(() => {
      throw new Error('upstream exploded: secret internals');
    });
    const testApp = await start({}, { models: [failing] });
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox' },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({
      error: 'generation_failed',
      message: 'The image could not be generated',
    });
    await expectNothingKept(testApp, 'alice');
  });

  it('stops the provider call and charges nothing when the client hangs up mid-generation', async () => {
    let callStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      callStarted = resolve;
    });
    let abortSeen: (reason: unknown) => void = () => undefined;
    const aborted = new Promise<unknown>((resolve) => {
      abortSeen = resolve;
    });
    // A provider that works until it is told the caller left, as fetch-based clients do.
    const slow = scriptedModel(
      (options) =>
        new Promise((_resolve, reject) => {
          options.abortSignal?.addEventListener('abort', () => {
            abortSeen(options.abortSignal?.reason);
            reject(options.abortSignal?.reason);
          });
          callStarted();
        }),
    );
    const testApp = await start({}, { models: [slow] });
    const address = await testApp.app.listen({ host: '127.0.0.1', port: 0 });
    const request = http.request(`${address}/api/v1/generate/image`, {
      method: 'POST',
      headers: { authorization: await testApp.bearerFor('alice'), 'content-type': 'application/json' },
    });
    request.on('error', () => undefined);
    request.end(JSON.stringify({ prompt: 'a fox' }));
    await started;
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 1 });
    request.destroy();
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    await vi.waitFor(async () =>
      expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 }),
    );
    await expectNothingKept(testApp, 'alice');
  });

  it('records nothing when the quota hold was given back while the image was being made', async () => {
    let testApp: TestApp | undefined;
    // The abandoned-hold sweeper takes a generation running far too long for dead and gives its hold back.
    const tooSlow = scriptedModel(async () => {
      await testApp?.services.ledger.releaseAbandoned(new Date(Date.now() + 60 * 60_000));
      return onePng();
    });
    testApp = await start({}, { models: [tooSlow] });
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox' },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: 'generation_failed' });
    await expectNothingKept(testApp, 'alice');
  });

  it('passes on a provider outage as 503 with Retry-After', async () => {
    const down = scriptedModel(() => {
      throw new ImagineError('provider_unavailable', undefined, { retry_after: 30 });
    });
    const testApp = await start({}, { models: [down] });
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox' },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(response.json()).toMatchObject({ error: 'provider_unavailable', retry_after: 30 });
  });
});

describe('request validation', () => {
  it.each([
    [{}, 'prompt'],
    [{ prompt: '   ' }, 'prompt'],
    // Zero-width space, non-joiner, joiner, word joiner, BOM: nothing anyone can see.
    [{ prompt: '\u200b\u200c\u200d\u2060\ufeff' }, 'prompt'],
    [{ prompt: ' \u200b\t\u00ad\u3164 ' }, 'prompt'],
    [{ prompt: 'x'.repeat(2001) }, 'prompt'],
    [{ prompt: 'cat', size: 'huge' }, 'size'],
    [{ prompt: 'cat', size: '4096x4096' }, 'size'],
    [{ prompt: 'cat', style: 'claymation-noir' }, 'style'],
    [{ prompt: 'cat', aspect_ratio: '7:3' }, 'aspect_ratio'],
    [{ prompt: 'cat', enhance_prompt: 'yes' }, 'enhance_prompt'],
    [{ prompt: 'cat', model: 'midjourney' }, 'model'],
  ])('answers 422 validation_error naming the field for %j', async (body, field) => {
    const testApp = await start();
    const response = await post(testApp, '/api/v1/generate/image', body, await testApp.bearerFor('alice'));
    expect(response.statusCode).toBe(422);
    const payload = response.json();
    expect(payload.error).toBe('validation_error');
    expect(payload.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    expect((await testApp.services.ledger.usage('alice', 5)).used).toBe(0);
  });

  it('refuses a batch prompt with nothing visible in it, naming the entry', async () => {
    const testApp = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompts: ['a cat', '\u200b\u200b'] },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      error: 'validation_error',
      details: [expect.objectContaining({ field: 'prompts.1', message: 'prompt must not be empty' })],
    });
    await expectNothingKept(testApp, 'alice');
  });

  it('stores and returns well-formed, composed text: a lone surrogate becomes one U+FFFD', async () => {
    const testApp = await start();
    const authorization = await testApp.bearerFor('alice');
    // An emoji cut in half (its high surrogate alone), and an "é" typed as e + combining acute accent.
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'cafe\u0301 fox \ud83e', negative_prompt: '\u200b', enhance_prompt: false },
      authorization,
    );
    expect(response.statusCode).toBe(201);
    expect(response.json().prompt_used).toBe('café fox \ufffd');
    const history = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/images',
      headers: { authorization },
    });
    expect(history.json().images[0].prompt).toBe('café fox \ufffd');
    const [record] = (await testApp.services.records.listForUser('alice', { limit: 1, cursor: undefined }))
      .records;
    expect(record?.prompt).toBe('café fox \ufffd');
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const testApp = await start();
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/generate/image',
      headers: { authorization: await testApp.bearerFor('alice'), 'content-type': 'application/json' },
      payload: '{"prompt": "cat",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_json' });
  });

  it('answers 413 payload_too_large for an oversized body', async () => {
    // A route that takes an image accepts the image's base64 (1024 here) on top of BODY_LIMIT_BYTES.
    const testApp = await start({ BODY_LIMIT_BYTES: '1024', MAX_INPUT_IMAGE_BYTES: '768' });
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'cat', negative_prompt: 'x'.repeat(2100) },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: 'payload_too_large' });
  });
});

describe('authentication', () => {
  const unauthorized = { error: 'unauthorized', message: 'Invalid or expired token' };

  it('accepts a Firebase ID token, applies its plan claim, and refuses one the verifier rejects', async () => {
    const testApp = await start(
      {},
      {
        firebaseTokens: {
          async verify(token) {
            if (token === 'valid-id-token')
              return { uid: 'firebase-uid-1', plan: 'pro', email: 'a@example.com' };
            throw new ImagineError('unauthorized');
          },
        },
      },
    );
    const accepted = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox' },
      'Bearer valid-id-token',
    );
    expect(accepted.statusCode).toBe(201);
    expect(accepted.json().usage).toEqual({ used: 1, limit: 200, remaining: 199 });
    const refused = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a fox' },
      'Bearer expired-id-token',
    );
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual(unauthorized);
  });

  it.each([
    ['no header', undefined],
    ['a malformed header', 'Token abc'],
    ['an unknown API key', 'Bearer imk_doesnotexist'],
    ['a Firebase token while Firebase is not configured', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln'],
  ])('answers 401 for %s', async (_name, authorization) => {
    const testApp = await start();
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/generate/image',
      payload: { prompt: 'cat' },
      ...(authorization ? { headers: { authorization } } : {}),
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(unauthorized);
  });

  it('answers 503 provider_unavailable with Retry-After when sign-in cannot be checked', async () => {
    const testApp = await start(
      {},
      {
        firebaseTokens: {
          async verify() {
            throw new ImagineError('provider_unavailable', 'Sign-in cannot be checked right now', {
              retry_after: 30,
            });
          },
        },
      },
    );
    const response = await post(testApp, '/api/v1/generate/image', { prompt: 'cat' }, 'Bearer eyJ.a.b');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('30');
    expect(response.json()).toEqual({
      error: 'provider_unavailable',
      message: 'Sign-in cannot be checked right now',
      retry_after: 30,
    });
  });

  it('answers 401 for a revoked API key', async () => {
    const testApp = await start();
    const key = (await testApp.bearerFor('alice')).slice('Bearer '.length);
    await testApp.services.apiKeys.revoke(key.slice(0, 12));
    const response = await post(testApp, '/api/v1/generate/image', { prompt: 'cat' }, `Bearer ${key}`);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(unauthorized);
  });
});

describe('rate limiting', () => {
  it('answers 429 rate_limited with Retry-After past the per-user limit', async () => {
    const testApp = await start({ READ_RATE_LIMIT_PER_MINUTE: '2' });
    const bearer = await testApp.bearerFor('alice');
    const other = await testApp.bearerFor('bob');
    const get = (authorization: string) =>
      testApp.app.inject({ method: 'GET', url: '/api/v1/usage', headers: { authorization } });
    const first = await get(bearer);
    expect(first.statusCode).toBe(200);
    // Successes carry no rate-limit headers; the refusal carries them all.
    expect(Object.keys(first.headers).filter((name) => name.startsWith('x-ratelimit'))).toEqual([]);
    expect((await get(bearer)).statusCode).toBe(200);
    const limited = await get(bearer);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0' });
    expect(limited.json()).toMatchObject({
      error: 'rate_limited',
      retry_after: Number(limited.headers['retry-after']),
    });
    // Limits are per user: another user is unaffected.
    expect((await get(other)).statusCode).toBe(200);
  });
});

describe('POST /api/v1/generate/image/batch', () => {
  it('returns 4 images of one prompt with the contract fields and charges 4', async () => {
    const testApp = await start({}, {});
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompt: 'a lighthouse', num_images: 4, size: '512x512' },
      await testApp.bearerFor('pro-user', 'pro'),
    );
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ success: true, count: 4, failed: 0, total_cost: 0 });
    expect(typeof body.generation_time).toBe('number');
    expect(new Set(body.images.map((image: { image_url: string }) => image.image_url)).size).toBe(4);
    expect(new Set(body.images.map((image: { seed: number }) => image.seed)).size).toBe(4);
    expect((await testApp.services.ledger.usage('pro-user', 200)).used).toBe(4);
  });

  it('returns 201 with 3 images and failed: 1 when one provider call fails, and charges 3', async () => {
    const flaky = scriptedModel((_options, callNumber) => {
      if (callNumber === 2) throw new Error('one call failed');
      return onePng();
    });
    const testApp = await start({}, { models: [flaky] });
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompt: 'a lighthouse', num_images: 4 },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ count: 3, failed: 1 });
    expect(body.images).toHaveLength(3);
    expect(body.failures).toEqual([expect.objectContaining({ error: 'generation_failed' })]);
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 3, reserved: 0 });
    expect(body.usage).toEqual({ used: 3, limit: 5, remaining: 2 });
  });

  it('generates one image per entry of prompts, concurrently', async () => {
    let running = 0;
    let mostAtOnce = 0;
    const slow = scriptedModel(async () => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return onePng();
    });
    const testApp = await start({}, { models: [slow] });
    const prompts = ['a red fox', 'a blue whale', 'a green frog'];
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompts, enhance_prompt: false },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(201);
    expect(response.json().images.map((image: { prompt_used: string }) => image.prompt_used)).toEqual(
      prompts,
    );
    expect(mostAtOnce).toBe(3);
  });

  it('checks quota for the whole batch before any work', async () => {
    const counting = scriptedModel(onePng);
    const testApp = await start({}, { models: [counting] });
    const bearer = await testApp.bearerFor('alice');
    await post(testApp, '/api/v1/generate/image/batch', { prompt: 'x', num_images: 3 }, bearer);
    const refused = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompt: 'y', num_images: 3 },
      bearer,
    );
    expect(refused.statusCode).toBe(402);
    expect(refused.json()).toMatchObject({ error: 'graphics_limit_reached', used: 3, limit: 5 });
    expect(counting.calls).toHaveLength(3);
  });

  it('answers with the error and charges nothing when every image fails', async () => {
    const failing = scriptedModel(() => {
      throw new Error('down');
    });
    const testApp = await start({}, { models: [failing] });
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompt: 'x', num_images: 2 },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: 'generation_failed' });
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it("honours the operator's MAX_BATCH_SIZE", async () => {
    const testApp = await start({ MAX_BATCH_SIZE: '2' });
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      { prompt: 'a fox', num_images: 3, size: '256x256' },
      await testApp.bearerFor('alice', 'pro'),
    );
    expect(response.statusCode).toBe(422);
    expect(response.json().details).toEqual([
      { field: 'num_images', message: 'at most 2 images per batch on this server' },
    ]);
    expect((await testApp.services.ledger.usage('alice', 200)).used).toBe(0);
  });

  it('refuses an empty or oversized batch', async () => {
    const testApp = await start();
    const bearer = await testApp.bearerFor('alice');
    for (const body of [
      { prompt: 'x', num_images: 5 },
      { prompts: [] },
      { num_images: 2 },
      { prompts: ['a', 'b'], num_images: 3 },
    ]) {
      const response = await post(testApp, '/api/v1/generate/image/batch', body, bearer);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(response.json().error).toBe('validation_error');
    }
  });
});
