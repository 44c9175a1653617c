import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import type { RetryPolicy } from '../call-with-retries.ts';
import type { ImageModelCallOptions } from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError, toImagineError } from '../provider-error.ts';
import {
  createOpenAIImageModel,
  nearestOpenAISize,
  type OpenAIImageModelSettings,
} from './openai-image-model.ts';
import { openaiProvider } from './openai-provider.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const openAIHost = 'https://api.openai.com';
const clock = () => new Date('2025-03-01T12:00:00.000Z');
const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// Fast enough for tests, but still several attempts: the retry tests depend on a second one.
const fastRetries: RetryPolicy = {
  deadlineMs: 5_000,
  attemptTimeoutMs: 2_000,
  initialDelayMs: 1,
  maxRetries: 2,
};

function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

function descriptor(id: 'dall-e-3' | 'gpt-image-1'): ModelDescriptor {
  const found = openaiProvider.builtInModels?.find((model) => model.id === id);
  if (!found) throw new Error(`${id} is missing from the catalog`);
  return found;
}

function openAIModel(id: 'dall-e-3' | 'gpt-image-1', overrides: Partial<OpenAIImageModelSettings> = {}) {
  return createOpenAIImageModel({
    apiKey: 'sk-test-key',
    baseUrl: undefined,
    descriptor: descriptor(id),
    retryPolicy: fastRetries,
    now: clock,
    ...overrides,
  });
}

function callOptions(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({ ...overrides });
}

/** Records each request body the interceptor sees (nock matches on a function that returns true). */
function captureBodies(bodies: unknown[]) {
  return (body: unknown) => {
    bodies.push(body);
    return true;
  };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise);
const providerFailure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

describe('OpenAI image model: dall-e-3', () => {
  it('maps the size, sends hd and b64_json, and returns the PNG with the revised prompt', async () => {
    const bodies: unknown[] = [];
    nock(openAIHost)
      .post('/v1/images/generations', captureBodies(bodies))
      .matchHeader('authorization', 'Bearer sk-test-key')
      .reply(200, fixture('dall-e-3-generation.json'), { 'x-request-id': 'req_dalle3_0001' });

    const model = openAIModel('dall-e-3');
    const result = await model.generate(callOptions({ size: { width: 1344, height: 768 }, quality: 'high' }));

    expect(model).toMatchObject({ provider: 'openai', modelId: 'dall-e-3', maxImagesPerCall: 1 });
    expect(bodies).toEqual([
      {
        model: 'dall-e-3',
        prompt: 'a lighthouse on a cliff at sunset',
        n: 1,
        size: '1792x1024',
        quality: 'hd',
        response_format: 'b64_json',
      },
    ]);
    expect(result.images).toHaveLength(1);
    expect([...(result.images[0]?.bytes.subarray(0, 8) ?? [])]).toEqual(pngSignature);
    expect(result.images[0]?.mediaType).toBe('image/png');
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'size', detail: '1344x768 → 1792x1024' }]);
    expect(result.response).toEqual({
      modelId: 'dall-e-3',
      timestamp: clock(),
      providerRequestId: 'req_dalle3_0001',
      revisedPrompt: fixture<{ data: { revised_prompt: string }[] }>('dall-e-3-generation.json').data[0]
        ?.revised_prompt,
    });
    // Landscape HD on DALL·E 3 is $0.12 an image.
    expect(result.usage.costUsd).toBeCloseTo(0.12, 10);
  });

  it('sends standard quality and warns nothing for a square image without seed or negative prompt', async () => {
    const bodies: unknown[] = [];
    nock(openAIHost)
      .post('/v1/images/generations', captureBodies(bodies))
      .reply(200, fixture('dall-e-3-generation.json'));

    const result = await openAIModel('dall-e-3').generate(callOptions());

    expect(bodies[0]).toMatchObject({ size: '1024x1024', quality: 'standard' });
    expect(result.warnings).toEqual([]);
    expect(result.response.providerRequestId).toBeUndefined();
    expect(result.usage.costUsd).toBeCloseTo(0.04, 10);
  });
});

describe('OpenAI image model: gpt-image-1', () => {
  it('asks for two PNGs without response_format and warns about seed and negative prompt', async () => {
    const bodies: unknown[] = [];
    nock(openAIHost)
      .post('/v1/images/generations', captureBodies(bodies))
      .reply(200, fixture('gpt-image-1-generation.json'), { 'x-request-id': 'req_gptimage_0001' });

    const model = openAIModel('gpt-image-1');
    const result = await model.generate(
      callOptions({
        n: 2,
        size: { width: 1344, height: 768 },
        quality: 'high',
        seed: 7,
        negativePrompt: 'people',
      }),
    );

    expect(model.maxImagesPerCall).toBe(4);
    expect(bodies).toEqual([
      {
        model: 'gpt-image-1',
        prompt: 'a lighthouse on a cliff at sunset',
        n: 2,
        size: '1536x1024',
        quality: 'high',
        output_format: 'png',
      },
    ]);
    expect(bodies[0]).not.toHaveProperty('response_format');
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect([...image.bytes.subarray(0, 8)]).toEqual(pngSignature);
      expect(image.mediaType).toBe('image/png');
    }
    expect(result.warnings).toEqual([
      { type: 'mapped', feature: 'size', detail: '1344x768 → 1536x1024' },
      expect.objectContaining({ type: 'unsupported', feature: 'seed' }),
      expect.objectContaining({ type: 'unsupported', feature: 'negative_prompt' }),
    ]);
    expect(result.response).toMatchObject({
      providerRequestId: 'req_gptimage_0001',
      revisedPrompt: undefined,
    });
    // Landscape high quality is $0.25 an image.
    expect(result.usage.costUsd).toBeCloseTo(0.5, 10);
  });

  it("sends our standard quality as 'medium'", async () => {
    const bodies: unknown[] = [];
    nock(openAIHost)
      .post('/v1/images/generations', captureBodies(bodies))
      .reply(200, fixture('gpt-image-1-generation.json'));

    const result = await openAIModel('gpt-image-1').generate(callOptions({ n: 2 }));

    expect(bodies[0]).toMatchObject({ size: '1024x1024', quality: 'medium', output_format: 'png' });
    expect(result.usage.costUsd).toBeCloseTo(2 * 0.042, 10);
  });

  it("classifies gpt-image-1's moderation_blocked as a safety refusal", async () => {
    nock(openAIHost).post('/v1/images/generations').reply(400, fixture('error-400-moderation-blocked.json'));

    const error = await providerFailure(openAIModel('gpt-image-1').generate(callOptions()));

    expect(error).toMatchObject({ kind: 'safety', provider: 'openai', status: 400 });
  });
});

describe('OpenAI image model: failures and retries', () => {
  it('waits for retry-after-ms after a 429, then succeeds', async () => {
    nock(openAIHost)
      .post('/v1/images/generations')
      // retry-after-ms wins over retry-after (30 s would overrun the 5 s deadline and fail the call).
      .reply(429, fixture('error-429-rate-limit.json'), { 'retry-after-ms': '50', 'retry-after': '30' })
      .post('/v1/images/generations')
      .reply(200, fixture('dall-e-3-generation.json'));

    const startedAt = performance.now();
    const result = await openAIModel('dall-e-3').generate(callOptions());

    expect(result.images).toHaveLength(1);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(45);
  });

  it('retries after a 500, then succeeds', async () => {
    nock(openAIHost)
      .post('/v1/images/generations')
      .reply(500, fixture('error-500.json'))
      .post('/v1/images/generations')
      .reply(200, fixture('dall-e-3-generation.json'));

    const result = await openAIModel('dall-e-3').generate(callOptions());

    expect(result.images).toHaveLength(1);
  });

  it('gives up after the last retry with the 5xx classified as unavailable', async () => {
    nock(openAIHost).post('/v1/images/generations').times(3).reply(503, fixture('error-500.json'));

    const error = await providerFailure(openAIModel('dall-e-3').generate(callOptions()));

    expect(error).toMatchObject({ kind: 'unavailable', status: 503 });
  });

  it('turns content_policy_violation into a safety refusal (422 for the user), without retrying', async () => {
    nock(openAIHost).post('/v1/images/generations').reply(400, fixture('error-400-content-policy.json'));

    const error = await providerFailure(openAIModel('dall-e-3').generate(callOptions()));

    expect(error).toMatchObject({ kind: 'safety', status: 400 });
    const userError = toImagineError(error);
    expect(userError.code).toBe('content_policy_violation');
    expect(userError.httpStatus).toBe(422);
    expect(userError.message).not.toContain('safety system. Your prompt');
  });

  it('classifies a 401 as credentials, without retrying', async () => {
    nock(openAIHost).post('/v1/images/generations').reply(401, fixture('error-401-invalid-key.json'));

    const error = await providerFailure(openAIModel('dall-e-3').generate(callOptions()));

    expect(error).toMatchObject({ kind: 'credentials', status: 401 });
  });

  it('classifies an exhausted quota (429 insufficient_quota) as credentials, without retrying', async () => {
    nock(openAIHost)
      .post('/v1/images/generations')
      .reply(429, fixture('error-429-insufficient-quota.json'), { 'retry-after': '1' });

    const error = await providerFailure(openAIModel('dall-e-3').generate(callOptions()));

    expect(error).toMatchObject({ kind: 'credentials', status: 429 });
  });

  it('raises a credentials error naming OPENAI_API_KEY, without any request, when the key is missing', async () => {
    const error = await providerFailure(
      openAIModel('dall-e-3', { apiKey: undefined }).generate(callOptions()),
    );

    expect(error).toMatchObject({
      kind: 'credentials',
      provider: 'openai',
      message: 'OPENAI_API_KEY is not set',
    });
  });

  it('rejects an image that is not a PNG as malformed', async () => {
    nock(openAIHost).post('/v1/images/generations').reply(200, fixture('generation-not-png.json'));

    const error = await providerFailure(openAIModel('dall-e-3').generate(callOptions()));

    expect(error.kind).toBe('malformed');
  });

  it('rejects an answer without base64 images as malformed', async () => {
    nock(openAIHost)
      .post('/v1/images/generations')
      .reply(200, { created: 1740830400, data: [{ url: 'https://example.com/image.png' }] });

    const error = await providerFailure(openAIModel('dall-e-3').generate(callOptions()));

    expect(error.kind).toBe('malformed');
  });

  it('sends requests to OPENAI_BASE_URL when one is set', async () => {
    nock('https://llm.internal.example')
      .post('/v1/images/generations')
      .matchHeader('authorization', 'Bearer sk-test-key')
      .reply(200, fixture('gpt-image-1-generation.json'));

    const model = openAIModel('gpt-image-1', { baseUrl: 'https://llm.internal.example/v1' });
    const result = await model.generate(callOptions({ n: 2 }));

    expect(result.images).toHaveLength(2);
  });

  it("passes the caller's abort on to the request and rethrows its reason", async () => {
    nock(openAIHost)
      .post('/v1/images/generations')
      .delay(2_000)
      .reply(200, fixture('dall-e-3-generation.json'));
    const controller = new AbortController();
    const reason = new Error('the user went away');
    setTimeout(() => controller.abort(reason), 20);

    const startedAt = performance.now();
    const error = await rejection(
      openAIModel('dall-e-3').generate(callOptions({ abortSignal: controller.signal })),
    );

    expect(error).toBe(reason);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });
});

describe('nearestOpenAISize', () => {
  const dallE3 = descriptor('dall-e-3').fixedSizes ?? [];
  const gptImage1 = descriptor('gpt-image-1').fixedSizes ?? [];

  it.each([
    [1024, 1024, dallE3, '1024x1024'],
    [512, 512, dallE3, '1024x1024'],
    [1344, 768, dallE3, '1792x1024'],
    [768, 1344, dallE3, '1024x1792'],
    [1152, 896, dallE3, '1024x1024'],
    [1216, 832, dallE3, '1792x1024'],
    [1344, 768, gptImage1, '1536x1024'],
    [832, 1216, gptImage1, '1024x1536'],
    [1152, 896, gptImage1, '1536x1024'],
    [1024, 960, gptImage1, '1024x1024'],
  ])('maps %ix%i to the nearest shape', (width, height, allowed, expected) => {
    const size = nearestOpenAISize({ width, height }, allowed);
    expect(`${size.width}x${size.height}`).toBe(expected);
  });

  it('breaks a tie in shape by area', () => {
    const allowed = [
      { width: 512, height: 512 },
      { width: 1024, height: 1024 },
    ];
    expect(nearestOpenAISize({ width: 900, height: 900 }, allowed)).toEqual({ width: 1024, height: 1024 });
    expect(nearestOpenAISize({ width: 600, height: 600 }, allowed)).toEqual({ width: 512, height: 512 });
  });
});
