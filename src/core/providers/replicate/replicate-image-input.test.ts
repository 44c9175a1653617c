import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import type { RetryPolicy } from '../call-with-retries.ts';
import type { ImageModelCallOptions, InputImage } from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError } from '../provider-error.ts';
import { ProviderRegistry } from '../provider-registry.ts';
import { createReplicateImageModel } from './replicate-image-model.ts';
import { realEsrganModel } from './replicate-options.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const api = 'https://api.replicate.com';
const token = 'r8_test_not_a_real_token';
const devRoute = '/v1/models/black-forest-labs/flux-dev/predictions';
const kontextRoute = '/v1/models/black-forest-labs/flux-kontext-pro/predictions';
const schnellRoute = '/v1/models/black-forest-labs/flux-schnell/predictions';

const fastPolicy: RetryPolicy = {
  deadlineMs: 15_000,
  attemptTimeoutMs: 10_000,
  initialDelayMs: 10,
  maxRetries: 2,
};

interface PredictionFixture {
  id: string;
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

function replicateModel(id: string) {
  return createReplicateImageModel({
    apiToken: token,
    descriptor: descriptor(id),
    retryPolicy: fastPolicy,
    pollIntervalMs: 10,
    waitSeconds: 5,
    now: () => new Date('2025-03-01T12:00:05.000Z'),
  });
}

let init: InputImage;
let output512: Buffer;
let output1024: Buffer;

const canvas = (width: number, height: number, r: number) =>
  sharp({ create: { width, height, channels: 3, background: { r, g: 90, b: 160 } } })
    .png()
    .toBuffer();

beforeAll(async () => {
  const bytes = await canvas(512, 512, 200);
  init = { bytes, mediaType: 'image/png', width: 512, height: 512 };
  [output512, output1024] = await Promise.all([canvas(512, 512, 10), canvas(1024, 1024, 10)]);
});

function dataUri(image: InputImage): string {
  return `data:${image.mediaType};base64,${Buffer.from(image.bytes).toString('base64')}`;
}

function serveOutputs(prediction: PredictionFixture, png: Buffer): void {
  const urls = typeof prediction.output === 'string' ? [prediction.output] : (prediction.output ?? []);
  for (const url of urls) {
    const { origin, pathname } = new URL(url);
    nock(origin).get(pathname).reply(200, png, { 'Content-Type': 'image/png' });
  }
}

/** Records the JSON body of the one prediction created on `route`, answered with `answer`. */
function capturePrediction(route: string, answer: PredictionFixture): { body: unknown } {
  const seen: { body: unknown } = { body: undefined };
  nock(api, { reqheaders: { authorization: `Bearer ${token}` } })
    .post(route, (sent) => {
      seen.body = sent;
      return true;
    })
    .reply(201, answer);
  return seen;
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

function call(overrides: Partial<ImageModelCallOptions>): ImageModelCallOptions {
  return modelCallOptions({ aspectRatio: '1:1', seed: 7, ...overrides });
}

describe('Replicate image input', () => {
  it('declares what each built-in model can do', () => {
    const capabilities = (id: string) => descriptor(id).capabilities;
    expect(capabilities('flux-schnell')).toEqual(['text_to_image']);
    expect(capabilities('flux-dev')).toEqual(['text_to_image', 'image_to_image']);
    expect(capabilities('flux-1.1-pro')).toEqual(['text_to_image']);
    expect(capabilities('flux-kontext-pro')).toEqual(['edit']);
    expect(capabilities('real-esrgan')).toEqual(['upscale']);
    expect(descriptor('real-esrgan').providerModel).toBe(realEsrganModel);
  });

  it("sends flux-dev's init image as a data URI with the strength as prompt_strength", async () => {
    const done = fixture('prediction-image-to-image-succeeded.json');
    const sent = capturePrediction(devRoute, done);
    serveOutputs(done, output512);

    const result = await replicateModel('flux-dev').generate(
      call({
        task: 'image_to_image',
        prompt: 'the same lighthouse in a snowstorm',
        inputImages: [init],
        strength: 0.35,
      }),
    );

    expect(sent.body).toEqual({
      input: {
        prompt: 'the same lighthouse in a snowstorm',
        aspect_ratio: '1:1',
        num_outputs: 1,
        seed: 7,
        output_format: 'png',
        go_fast: true,
        megapixels: '1',
        image: dataUri(init),
        prompt_strength: 0.35,
      },
    });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.dimensions).toEqual({ width: 512, height: 512 });
    // The output keeps the input's shape; that is no size to warn about.
    expect(result.warnings).toEqual([]);
    expect(result.usage.costUsd).toBe(0.025);
  });

  it('does not warn about the aspect ratio of an image-to-image call, which follows the init image', async () => {
    const done = fixture('prediction-image-to-image-succeeded.json');
    const sent = capturePrediction(devRoute, done);
    serveOutputs(done, output512);

    const result = await replicateModel('flux-dev').generate(
      call({ task: 'image_to_image', aspectRatio: '7:5', inputImages: [init], strength: 0.6 }),
    );

    expect(sent.body).toMatchObject({ input: { aspect_ratio: '4:3', prompt_strength: 0.6 } });
    expect(result.warnings).toEqual([]);
  });

  it('uploads an init image too large for a data URI and sends its file URL', async () => {
    const large: InputImage = {
      bytes: randomBytes(800_000),
      mediaType: 'image/png',
      width: 2048,
      height: 2048,
    };
    let upload = '';
    nock(api, { reqheaders: { authorization: `Bearer ${token}` } })
      .post('/v1/files', (body: string) => {
        upload = body;
        return true;
      })
      .reply(201, fixture('file-created.json'));
    const done = fixture('prediction-image-to-image-succeeded.json');
    const sent = capturePrediction(devRoute, done);
    serveOutputs(done, output512);

    await replicateModel('flux-dev').generate(
      call({ task: 'image_to_image', inputImages: [large], strength: 0.8 }),
    );

    const uploaded = Buffer.from(upload, 'hex');
    expect(uploaded.includes(Buffer.from(large.bytes))).toBe(true);
    expect(uploaded.toString('latin1')).toMatch(
      /name="content"; filename="input.png"\r\nContent-Type: image\/png/,
    );
    expect(sent.body).toMatchObject({
      input: {
        image: 'https://api.replicate.com/v1/files/ZjQ5YzM4NDMtNjc2Mi00NzA2LWE3YzctMzU0NDk2NTk4ZjA0',
        prompt_strength: 0.8,
      },
    });
  });

  it('edits with FLUX.1 Kontext [pro]: the instruction and the reference image, keeping its shape', async () => {
    const done = fixture('prediction-kontext-succeeded.json');
    const sent = capturePrediction(kontextRoute, done);
    serveOutputs(done, output512);
    const second: InputImage = { ...init, bytes: Buffer.from(init.bytes).subarray(0, 100) };

    const result = await replicateModel('flux-kontext-pro').generate(
      call({ task: 'edit', prompt: 'make the lighthouse red', inputImages: [init, second] }),
    );

    expect(sent.body).toEqual({
      input: {
        prompt: 'make the lighthouse red',
        input_image: dataUri(init),
        aspect_ratio: 'match_input_image',
        seed: 7,
        output_format: 'png',
      },
    });
    expect(result.warnings).toEqual([
      {
        type: 'unsupported',
        feature: 'input_images',
        detail: 'FLUX.1 Kontext [pro] edits one image; 1 more were not sent.',
      },
    ]);
    expect(result.usage.costUsd).toBe(0.04);
  });

  it('upscales with Real-ESRGAN run by its pinned version, the factor as scale', async () => {
    const done = fixture('prediction-esrgan-succeeded.json');
    const sent = capturePrediction('/v1/predictions', done);
    serveOutputs(done, output1024);

    const result = await replicateModel('real-esrgan').generate(
      call({ task: 'upscale', inputImages: [init], upscaleFactor: 2, negativePrompt: 'blurry' }),
    );

    expect(sent.body).toEqual({
      version: 'f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa',
      input: { image: dataUri(init), scale: 2, face_enhance: false },
    });
    expect(result.images[0]?.dimensions).toEqual({ width: 1024, height: 1024 });
    expect(result.warnings).toEqual([]);
    expect(result.usage.costUsd).toBe(0.0025);
  });

  it('warns when an upscale did not come back at the factor', async () => {
    const done = fixture('prediction-esrgan-succeeded.json');
    capturePrediction('/v1/predictions', done);
    serveOutputs(done, output1024);

    const result = await replicateModel('real-esrgan').generate(
      call({ task: 'upscale', inputImages: [init], upscaleFactor: 4 }),
    );

    expect(result.warnings).toEqual([
      { type: 'mapped', feature: 'size', detail: '2048x2048 → 1024x1024: real-esrgan did not enlarge by 4' },
    ]);
  });

  it.each([
    ['flux-schnell', 'image_to_image'],
    ['flux-1.1-pro', 'edit'],
    ['flux-dev', 'upscale'],
    ['flux-kontext-pro', 'text_to_image'],
    ['real-esrgan', 'image_to_image'],
  ] as const)('refuses to call %s for %s, sending nothing', async (id, task) => {
    const error = await failure(
      replicateModel(id).generate(call({ task, inputImages: [init], strength: 0.5, upscaleFactor: 2 })),
    );

    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(new RegExp(`cannot do ${task}`));
  });

  it('refuses an image task that brings no image, sending nothing', async () => {
    const error = await failure(
      replicateModel('flux-dev').generate(call({ task: 'image_to_image', strength: 0.5 })),
    );

    expect(error).toMatchObject({
      kind: 'rejected',
      message: 'image_to_image needs an input image, and the call has none',
    });
  });

  it('sends no image on a text-to-image call to a model that could take one', async () => {
    const sent = capturePrediction(schnellRoute, fixture('prediction-succeeded.json'));
    serveOutputs(fixture('prediction-succeeded.json'), output1024);

    await replicateModel('flux-schnell').generate(call({ n: 2 }));

    expect(sent.body).not.toHaveProperty('input.image');
  });

  it("reports Replicate's refusal of the image as rejected, without trying again", async () => {
    nock(api).post(devRoute).once().reply(422, fixture('error-422-bad-image.json'));

    const error = await failure(
      replicateModel('flux-dev').generate(
        call({ task: 'image_to_image', inputImages: [init], strength: 0.5 }),
      ),
    );

    expect(error).toMatchObject({ kind: 'rejected', status: 422 });
    expect(error.message).toMatch(/input\.image/);
  });

  it("reports Kontext's moderation of the image as a safety failure", async () => {
    nock(api).post(kontextRoute).reply(201, fixture('prediction-failed-kontext-moderated.json'));

    const error = await failure(
      replicateModel('flux-kontext-pro').generate(call({ task: 'edit', inputImages: [init] })),
    );

    expect(error.kind).toBe('safety');
  });
});
