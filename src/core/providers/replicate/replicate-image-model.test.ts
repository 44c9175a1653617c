import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import type { Logger } from 'pino';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import type { RetryPolicy } from '../call-with-retries.ts';
import type { ImageModelCallOptions } from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError } from '../provider-error.ts';
import { ProviderRegistry } from '../provider-registry.ts';
import { parsePrediction } from './replicate-api.ts';
import { classifyFailedPrediction } from './replicate-error.ts';
import { createReplicateImageModel, type ReplicateImageModelSettings } from './replicate-image-model.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const api = 'https://api.replicate.com';
const token = 'r8_test_not_a_real_token';
const clock = () => new Date('2025-03-01T12:00:05.000Z');
const schnellRoute = '/v1/models/black-forest-labs/flux-schnell/predictions';
const proRoute = '/v1/models/black-forest-labs/flux-1.1-pro/predictions';

/** Small numbers so retries and waits stay in milliseconds; the attempt leaves room for `Prefer: wait=5`. */
const fastPolicy: RetryPolicy = {
  deadlineMs: 15_000,
  attemptTimeoutMs: 10_000,
  initialDelayMs: 10,
  maxRetries: 2,
};

interface PredictionFixture {
  id: string;
  status: string;
  output: string | string[] | null;
}

function fixture<T = PredictionFixture>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

function descriptor(id: string): ModelDescriptor {
  const found = new ProviderRegistry().builtInModels().find((model) => model.id === id);
  if (!found) throw new Error(`no model ${id} in the catalog`);
  return found;
}

let square: Buffer;
let wide: Buffer;

beforeAll(async () => {
  const canvas = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 30, g: 90, b: 160 } } })
      .png()
      .toBuffer();
  [square, wide] = await Promise.all([canvas(1024, 1024), canvas(1344, 768)]);
});

function callOptions(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({ aspectRatio: '1:1', seed: 7, ...overrides });
}

function replicateModel(overrides: Partial<ReplicateImageModelSettings> = {}) {
  return createReplicateImageModel({
    apiToken: token,
    descriptor: descriptor('flux-schnell'),
    retryPolicy: fastPolicy,
    pollIntervalMs: 10,
    waitSeconds: 5,
    now: clock,
    ...overrides,
  });
}

function fakeLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

/** Answers each output URL of `prediction` with `png`, once. */
function serveOutputs(prediction: PredictionFixture, png: Buffer = square): void {
  const urls = typeof prediction.output === 'string' ? [prediction.output] : (prediction.output ?? []);
  for (const url of urls) {
    const { origin, pathname } = new URL(url);
    nock(origin).get(pathname).reply(200, png, { 'Content-Type': 'image/png' });
  }
}

/** The ProviderCallError a call rejected with (fails the test if it resolved or threw something else). */
const failure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

describe('createReplicateImageModel', () => {
  it('describes itself from the catalog entry', () => {
    const model = replicateModel({ descriptor: descriptor('flux-1.1-pro') });
    expect(model).toMatchObject({ provider: 'replicate', modelId: 'flux-1.1-pro', maxImagesPerCall: 1 });
    expect(() => replicateModel({ descriptor: descriptor('dall-e-3') })).toThrow(/not a Replicate model/);
  });

  it('creates the prediction with Prefer: wait and returns the downloaded images', async () => {
    const succeeded = fixture('prediction-succeeded.json');
    let body: unknown;
    nock(api, { reqheaders: { authorization: `Bearer ${token}`, prefer: 'wait=5' } })
      .post(schnellRoute, (sent) => {
        body = sent;
        return true;
      })
      .reply(201, succeeded);
    serveOutputs(succeeded);

    const result = await replicateModel().generate(callOptions({ n: 2 }));

    expect(body).toEqual({
      input: {
        prompt: 'a lighthouse on a cliff at sunset',
        aspect_ratio: '1:1',
        num_outputs: 2,
        seed: 7,
        output_format: 'png',
        go_fast: true,
        megapixels: '1',
      },
    });
    expect(JSON.stringify(body)).not.toContain('disable_safety_checker');
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect(image.mediaType).toBe('image/png');
      expect(Buffer.from(image.bytes).equals(square)).toBe(true);
    }
    expect(result.warnings).toEqual([]);
    expect(result.response).toEqual({
      modelId: 'flux-schnell',
      timestamp: clock(),
      providerRequestId: succeeded.id,
      revisedPrompt: undefined,
    });
    expect(result.usage.costUsd).toBeCloseTo(0.006, 10);
  });

  it('polls a prediction that is still starting when the wait ends', async () => {
    const done = fixture('prediction-succeeded-after-polling.json');
    nock(api, { reqheaders: { prefer: 'wait=5' } })
      .post(schnellRoute)
      .reply(201, fixture('prediction-starting.json'));
    nock(api)
      .get(`/v1/predictions/${done.id}`)
      .reply(200, fixture('prediction-processing.json'))
      .get(`/v1/predictions/${done.id}`)
      .reply(200, done);
    serveOutputs(done);

    const result = await replicateModel().generate(callOptions());

    expect(result.images).toHaveLength(1);
    expect(result.response.providerRequestId).toBe(done.id);
    expect(result.usage.costUsd).toBeCloseTo(0.003, 10);
  });

  it('reports the progress bars the model prints in its logs while it is polled', async () => {
    const done = fixture('prediction-succeeded-after-polling.json');
    const processing = fixture('prediction-processing.json');
    nock(api).post(schnellRoute).reply(201, fixture('prediction-starting.json'));
    nock(api)
      .get(`/v1/predictions/${done.id}`)
      .reply(200, {
        ...processing,
        logs: `${(processing as { logs?: string }).logs ?? ''} 50%|█████     | 2/4 [00:00<00:00,  2.2it/s]`,
      })
      .get(`/v1/predictions/${done.id}`)
      .reply(200, done);
    serveOutputs(done);
    const reported: number[] = [];
    await replicateModel().generate(callOptions({ onProgress: (progress) => reported.push(progress) }));
    expect(reported).toEqual([0.5]);
  });

  it('takes the output of a prediction still finalising when it already lists every image', async () => {
    const processing = fixture('prediction-processing.json');
    const withOutput = { ...processing, output: ['https://replicate.delivery/xezq/early/out-0.png'] };
    nock(api).post(schnellRoute).reply(201, withOutput);
    serveOutputs(withOutput);

    const result = await replicateModel().generate(callOptions());

    expect(result.images).toHaveLength(1);
  });

  it('reports a failed prediction as rejected, without trying again', async () => {
    nock(api).post(schnellRoute).reply(201, fixture('prediction-failed.json'));

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('prompt is too long');
  });

  it('reports an NSFW refusal as a safety failure', async () => {
    nock(api).post(schnellRoute).reply(201, fixture('prediction-failed-nsfw.json'));

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error.kind).toBe('safety');
  });

  it('replaces a prediction that failed for a transient reason', async () => {
    const done = fixture('prediction-succeeded-after-polling.json');
    nock(api)
      .post(schnellRoute)
      .reply(201, fixture('prediction-failed-interrupted.json'))
      .post(schnellRoute)
      .reply(201, done);
    serveOutputs(done);

    const result = await replicateModel().generate(callOptions());

    expect(result.response.providerRequestId).toBe(done.id);
  });

  it("waits out a 429's Retry-After, then succeeds", async () => {
    const done = fixture('prediction-succeeded-after-polling.json');
    nock(api)
      .post(schnellRoute)
      .reply(429, fixture('error-429.json'), { 'Retry-After': '1' })
      .post(schnellRoute)
      .reply(201, done);
    serveOutputs(done);
    const logger = fakeLogger();

    const startedAt = performance.now();
    const result = await replicateModel({ logger: logger as unknown as Logger }).generate(callOptions());

    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(950);
    expect(result.images).toHaveLength(1);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('makes one request per attempt: the client does not retry a 429 by itself', async () => {
    nock(api).post(schnellRoute).reply(429, fixture('error-429.json'), { 'Retry-After': '1' });

    const error = await failure(
      replicateModel({ retryPolicy: { ...fastPolicy, maxRetries: 0 } }).generate(callOptions()),
    );

    expect(error).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterSeconds: 1 });
  });

  it('tries again after a 500', async () => {
    const done = fixture('prediction-succeeded-after-polling.json');
    nock(api).post(schnellRoute).reply(500, fixture('error-500.json')).post(schnellRoute).reply(201, done);
    serveOutputs(done);

    const result = await replicateModel().generate(callOptions());

    expect(result.images).toHaveLength(1);
  });

  it('keeps polling the same prediction after a failed poll, retrying it itself and only once', async () => {
    const done = fixture('prediction-succeeded-after-polling.json');
    nock(api).post(schnellRoute).reply(201, fixture('prediction-starting.json'));
    nock(api)
      .get(`/v1/predictions/${done.id}`)
      .reply(503, fixture('error-500.json'))
      .get(`/v1/predictions/${done.id}`)
      .reply(200, done);
    serveOutputs(done);
    const logger = fakeLogger();

    const result = await replicateModel({ logger: logger as unknown as Logger }).generate(callOptions());

    expect(result.response.providerRequestId).toBe(done.id);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({ err: { kind: 'unavailable', status: 503 } });
  });

  it('times out an attempt that gets no answer', async () => {
    nock(api).post(schnellRoute).delay(2_000).reply(201, fixture('prediction-succeeded.json'));
    const policy: RetryPolicy = {
      deadlineMs: 1_000,
      attemptTimeoutMs: 150,
      initialDelayMs: 10,
      maxRetries: 0,
    };

    const startedAt = performance.now();
    const error = await failure(replicateModel({ retryPolicy: policy }).generate(callOptions()));

    expect(error.kind).toBe('timeout');
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('reports a body that is not JSON as malformed', async () => {
    nock(api).post(schnellRoute).reply(201, '{"id": "q2g7zj8b5hrm80cmyt6v7vs4fc", "status": ', {
      'Content-Type': 'application/json',
    });

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error.kind).toBe('malformed');
  });

  it('reports JSON that is not a prediction as malformed', async () => {
    nock(api).post(schnellRoute).reply(201, { id: 'q2g7zj8b5hrm80cmyt6v7vs4fc', status: 'exploded' });

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error.kind).toBe('malformed');
  });

  it('refuses an output URL on a foreign host without fetching it', async () => {
    nock(api).post(schnellRoute).reply(201, fixture('prediction-succeeded-foreign-host.json'));

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('images.example.net');
  });

  it('names the missing variable and makes no request without a token', async () => {
    const error = await failure(replicateModel({ apiToken: undefined }).generate(callOptions()));

    expect(error).toMatchObject({ kind: 'credentials', message: 'REPLICATE_API_TOKEN is not set' });
  });

  it('reports a 401 as bad credentials', async () => {
    nock(api).post(schnellRoute).reply(401, fixture('error-401.json'));

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error).toMatchObject({ kind: 'credentials', status: 401 });
  });

  it('reports a 422 as rejected', async () => {
    nock(api).post(schnellRoute).reply(422, fixture('error-422.json'));

    const error = await failure(replicateModel().generate(callOptions()));

    expect(error).toMatchObject({ kind: 'rejected', status: 422 });
  });

  it('maps an aspect ratio FLUX1.1 [pro] lacks to its nearest, and warns about what Flux ignores', async () => {
    const done = fixture('prediction-succeeded-pro.json');
    let body: unknown;
    nock(api)
      .post(proRoute, (sent) => {
        body = sent;
        return true;
      })
      .reply(201, done);
    serveOutputs(done, wide);

    const result = await replicateModel({ descriptor: descriptor('flux-1.1-pro') }).generate(
      callOptions({ aspectRatio: '21:9', size: { width: 1344, height: 768 }, negativePrompt: 'blurry' }),
    );

    expect(body).toEqual({
      input: {
        prompt: 'a lighthouse on a cliff at sunset',
        aspect_ratio: '16:9',
        seed: 7,
        output_format: 'png',
      },
    });
    expect(result.warnings).toEqual([
      { type: 'mapped', feature: 'aspect_ratio', detail: expect.stringContaining('21:9 → 16:9') },
      { type: 'unsupported', feature: 'negative_prompt', detail: expect.any(String) },
    ]);
    expect(result.images).toHaveLength(1);
    expect(result.usage.costUsd).toBeCloseTo(0.04, 10);
  });

  it('refuses more images than the model renders in one prediction', async () => {
    const model = replicateModel({ descriptor: descriptor('flux-1.1-pro') });

    await expect(model.generate(callOptions({ n: 2 }))).rejects.toThrow(RangeError);
  });

  it('cancels the prediction when the caller aborts while it is polling', async () => {
    const starting = fixture('prediction-starting.json');
    const controller = new AbortController();
    nock(api).post(schnellRoute).reply(201, starting);
    nock(api)
      .get(`/v1/predictions/${starting.id}`)
      .reply(() => {
        setTimeout(() => controller.abort(), 20);
        return [200, fixture('prediction-processing.json')];
      });
    const cancel = nock(api)
      .post(`/v1/predictions/${starting.id}/cancel`)
      .reply(200, fixture('prediction-canceled.json'));

    const model = replicateModel({ pollIntervalMs: 100 });
    await expect(model.generate(callOptions({ abortSignal: controller.signal }))).rejects.toMatchObject({
      name: 'AbortError',
    });

    await vi.waitFor(() => expect(cancel.isDone()).toBe(true));
  });
});

describe('classifyFailedPrediction', () => {
  const failed = (error: unknown, status = 'failed') =>
    classifyFailedPrediction(parsePrediction({ id: 'p1', status, output: null, error }));

  it.each([
    ['NSFW content detected. Try running it again, or try a different prompt.', 'safety'],
    [
      'The input or output was flagged as sensitive. Please try again with different inputs. (E005)',
      'safety',
    ],
    ['Your request was rejected because of our content policy', 'safety'],
    ['Prediction interrupted; please retry (code: PA)', 'unavailable'],
    ['E6716: Timeout starting prediction', 'unavailable'],
    [null, 'unavailable'],
    ['E1001: Model out of memory', 'rejected'],
    ['prompt is too long for the text encoder', 'rejected'],
  ])('classifies %j as %s', (error, kind) => {
    expect(failed(error).kind).toBe(kind);
  });

  it('treats a canceled prediction as unavailable', () => {
    expect(failed(null, 'canceled').kind).toBe('unavailable');
  });
});
