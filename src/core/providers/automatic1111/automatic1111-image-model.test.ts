import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import {
  closedPortUrl,
  type ReceivedRequest,
  type StandInServer,
  sendJson,
  startStandInServer,
} from '../../../test-support/stand-in-server.ts';
import type { RetryPolicy } from '../call-with-retries.ts';
import type { ImageModelCallOptions, InputImage } from '../image-model.ts';
import { canFallBack, ProviderCallError, toImagineError } from '../provider-error.ts';
import {
  type Automatic1111ImageModelSettings,
  createAutomatic1111ImageModel,
  probeAutomatic1111,
} from './automatic1111-image-model.ts';
import { automatic1111OptionsSchema } from './automatic1111-options.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const clock = () => new Date('2026-03-01T12:00:05.000Z');
const checkpoint = 'v1-5-pruned-emaonly.safetensors [6ce0161689]';
/** The seed A1111 picked in the recorded answers, when asked for -1. */
const recordedSeed = 3872916504;
const fastPolicy: RetryPolicy = {
  deadlineMs: 10_000,
  attemptTimeoutMs: 10_000,
  initialDelayMs: 10,
  maxRetries: 1,
};

function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

interface Txt2ImgAnswer {
  images: string[];
  parameters: Record<string, unknown>;
  info: string;
}

/**
 * What A1111 answers a txt2img request: the recorded answer with `batch_size` images, and `info` naming
 * the seeds it used, the one sent (image k: seed + k) or, for -1, the one it picked.
 */
function txt2ImgAnswer(request: ReceivedRequest): Txt2ImgAnswer {
  const body = request.body as { seed: number; batch_size: number };
  const recorded = fixture<Txt2ImgAnswer>('txt2img-batch-of-2.json');
  const info = JSON.parse(recorded.info) as Record<string, unknown>;
  const first = body.seed === -1 ? recordedSeed : body.seed;
  const seeds = Array.from({ length: body.batch_size }, (_, index) => first + index);
  const images = seeds.map((_, index) => recorded.images[index % recorded.images.length] as string);
  return {
    images,
    parameters: { ...recorded.parameters, ...(request.body as object) },
    info: JSON.stringify({ ...info, seed: first, all_seeds: seeds, batch_size: body.batch_size }),
  };
}

/** What A1111 answers img2img: the recorded answer's shape, with the seeds as txt2img gives them. */
function img2ImgAnswer(request: ReceivedRequest): Txt2ImgAnswer {
  const recorded = fixture<Txt2ImgAnswer>('img2img-success.json');
  const { images, info } = txt2ImgAnswer(request);
  // A1111 echoes the request's parameters without the init images (`init_images: null`).
  return { images, parameters: { ...recorded.parameters, init_images: null }, info };
}

/** What A1111's extras tab does: the sent image enlarged `upscaling_resize` times, as base64 PNG. */
async function extrasAnswer(request: ReceivedRequest): Promise<{ html_info: string; image: string }> {
  const body = request.body as { image: string; upscaling_resize: number; upscaler_1: string };
  const source = sharp(Buffer.from(body.image, 'base64'));
  const { width = 0, height = 0 } = await source.metadata();
  const enlarged = await source
    .resize(width * body.upscaling_resize, height * body.upscaling_resize, { kernel: 'lanczos3' })
    .png()
    .toBuffer();
  return {
    html_info: `<p>Postprocess upscale by: ${body.upscaling_resize}, Postprocess upscaler: ${body.upscaler_1}</p>`,
    image: enlarged.toString('base64'),
  };
}

type Route = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

let server: StandInServer | undefined;

/** A stand-in A1111 (`--api`), optionally with `--api-auth`; `routes` replace its default answers. */
async function startA1111(
  routes: Partial<
    Record<'txt2img' | 'img2img' | 'extra-single-image' | 'progress' | 'interrupt' | 'sd-models', Route>
  > = {},
  auth?: { username: string; password: string },
): Promise<StandInServer> {
  server = await startStandInServer(async (request, response) => {
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      if (request.headers.authorization !== expected) {
        response.setHeader('www-authenticate', 'Basic');
        sendJson(response, 401, fixture('error-401.json'));
        return;
      }
    }
    const route = `${request.method} ${request.pathname}`;
    if (route === 'POST /sdapi/v1/txt2img') {
      await (routes.txt2img ?? ((_, res) => sendJson(res, 200, txt2ImgAnswer(request))))(request, response);
    } else if (route === 'POST /sdapi/v1/img2img') {
      await (routes.img2img ?? ((_, res) => sendJson(res, 200, img2ImgAnswer(request))))(request, response);
    } else if (route === 'POST /sdapi/v1/extra-single-image') {
      const answer = routes['extra-single-image'];
      if (answer) await answer(request, response);
      else sendJson(response, 200, await extrasAnswer(request));
    } else if (route === 'GET /sdapi/v1/progress') {
      await (routes.progress ?? ((_, res) => sendJson(res, 200, fixture('progress-idle.json'))))(
        request,
        response,
      );
    } else if (route === 'POST /sdapi/v1/interrupt') {
      await (routes.interrupt ?? ((_, res) => sendJson(res, 200, {})))(request, response);
    } else if (route === 'GET /sdapi/v1/sd-models') {
      await (routes['sd-models'] ?? ((_, res) => sendJson(res, 200, fixture('sd-models.json'))))(
        request,
        response,
      );
    }
  });
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function a1111Model(baseUrl: string, overrides: Partial<Automatic1111ImageModelSettings> = {}) {
  return createAutomatic1111ImageModel({
    modelId: 'sd15-local',
    baseUrl,
    vendorModel: checkpoint,
    maxImagesPerCall: 4,
    timeoutMs: 10_000,
    options: { steps: 20, cfg_scale: 7, sampler: 'DPM++ 2M' },
    retryPolicy: fastPolicy,
    progressPollMs: 1,
    now: clock,
    env: {},
    ...overrides,
  });
}

function callOptions(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({ size: { width: 512, height: 512 }, ...overrides });
}

const txt2ImgRequests = (stand: StandInServer) =>
  stand.requests.filter((r) => r.pathname === '/sdapi/v1/txt2img');
const interruptRequests = (stand: StandInServer) =>
  stand.requests.filter((r) => r.pathname === '/sdapi/v1/interrupt');
const failure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

describe('createAutomatic1111ImageModel', () => {
  it('posts txt2img with the entry settings and returns the PNGs A1111 sent', async () => {
    const stand = await startA1111();

    const result = await a1111Model(stand.url).generate(
      callOptions({ seed: 7, negativePrompt: 'blurry, text' }),
    );

    expect(txt2ImgRequests(stand).map((request) => request.body)).toEqual([
      {
        prompt: 'a lighthouse on a cliff at sunset',
        negative_prompt: 'blurry, text',
        seed: 7,
        width: 512,
        height: 512,
        batch_size: 1,
        n_iter: 1,
        steps: 20,
        cfg_scale: 7,
        sampler_name: 'DPM++ 2M',
        override_settings: { sd_model_checkpoint: checkpoint },
        override_settings_restore_afterwards: false,
        send_images: true,
        save_images: false,
      },
    ]);
    expect(txt2ImgRequests(stand)[0]?.headers['content-type']).toBe('application/json');
    expect(result.images).toHaveLength(1);
    const [image] = result.images;
    expect(image).toMatchObject({ mediaType: 'image/png', dimensions: { width: 512, height: 512 }, seed: 7 });
    expect(
      Buffer.from(image?.bytes ?? [])
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(result.warnings).toEqual([]);
    expect(result.response).toEqual({
      modelId: 'sd15-local',
      timestamp: clock(),
      providerRequestId: undefined,
      revisedPrompt: undefined,
    });
    // The entry's price_usd is what is charged, not anything the server says.
    expect(result.usage.costUsd).toBeUndefined();
  });

  it('leaves the checkpoint and sampling settings to the server when the entry sets none', async () => {
    const stand = await startA1111();

    await a1111Model(stand.url, { vendorModel: undefined, options: {} }).generate(callOptions());

    const body = txt2ImgRequests(stand)[0]?.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      [
        'prompt',
        'negative_prompt',
        'seed',
        'width',
        'height',
        'batch_size',
        'n_iter',
        'send_images',
        'save_images',
      ].sort(),
    );
    expect(body.negative_prompt).toBe('');
  });

  it('renders a batch in one call and gives each image the seed A1111 used for it', async () => {
    const stand = await startA1111();

    const result = await a1111Model(stand.url).generate(callOptions({ n: 2, seed: 41 }));

    expect(txt2ImgRequests(stand)).toHaveLength(1);
    expect(txt2ImgRequests(stand)[0]?.body).toMatchObject({ seed: 41, batch_size: 2 });
    expect(result.images.map((image) => image.seed)).toEqual([41, 42]);
  });

  it('sends seed -1 when none is given and reports the seed A1111 picked, so the image can be reproduced', async () => {
    const stand = await startA1111();

    const result = await a1111Model(stand.url).generate(callOptions({ seed: undefined }));

    expect(txt2ImgRequests(stand)[0]?.body).toMatchObject({ seed: -1 });
    expect(result.images[0]?.seed).toBe(recordedSeed);
    expect(result.warnings).toEqual([]);
  });

  it('warns when A1111 used another seed than the one sent', async () => {
    const stand = await startA1111({
      txt2img: (request, response) => {
        const answer = txt2ImgAnswer({ ...request, body: { ...(request.body as object), seed: -1 } });
        sendJson(response, 200, answer);
      },
    });

    const result = await a1111Model(stand.url).generate(callOptions({ seed: 7 }));

    expect(result.images[0]?.seed).toBe(recordedSeed);
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'seed', detail: `7 → ${recordedSeed}` }]);
  });

  it('keeps the images when info is not the JSON it should be, without a seed', async () => {
    const stand = await startA1111({
      txt2img: (request, response) =>
        sendJson(response, 200, { ...txt2ImgAnswer(request), info: 'Steps: 20' }),
    });

    const result = await a1111Model(stand.url).generate(callOptions({ seed: 7 }));

    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.seed).toBeUndefined();
  });

  it('skips the grid A1111 puts first when it returns one', async () => {
    const stand = await startA1111({
      txt2img: (request, response) => {
        const answer = txt2ImgAnswer(request);
        const info = { ...(JSON.parse(answer.info) as object), index_of_first_image: 1 };
        const grid = fixture<Txt2ImgAnswer>('txt2img-success.json').images[0] as string;
        sendJson(response, 200, { ...answer, images: [grid, ...answer.images], info: JSON.stringify(info) });
      },
    });

    const result = await a1111Model(stand.url).generate(callOptions({ n: 2, seed: 5 }));

    expect(result.images.map((image) => image.seed)).toEqual([5, 6]);
  });

  it('rounds a size to the multiples of 8 A1111 renders, with a warning', async () => {
    const stand = await startA1111();

    const result = await a1111Model(stand.url).generate(callOptions({ size: { width: 1023, height: 577 } }));

    expect(txt2ImgRequests(stand)[0]?.body).toMatchObject({ width: 1024, height: 576 });
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'size', detail: '1023x577 → 1024x576' }]);
  });

  it("maps a size to the nearest of the entry's sizes", async () => {
    const stand = await startA1111();
    const sizes = [
      { width: 512, height: 512 },
      { width: 768, height: 512 },
      { width: 512, height: 768 },
    ];

    const result = await a1111Model(stand.url, { sizes }).generate(
      callOptions({ size: { width: 1344, height: 768 } }),
    );

    expect(txt2ImgRequests(stand)[0]?.body).toMatchObject({ width: 768, height: 512 });
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'size', detail: '1344x768 → 768x512' }]);
  });

  it('refuses more images than one call renders', async () => {
    const model = a1111Model('http://127.0.0.1:9', { maxImagesPerCall: 2 });

    await expect(model.generate(callOptions({ n: 3 }))).rejects.toThrow(RangeError);
  });

  describe('with --api-auth', () => {
    const auth = { username: 'imagine', password: 'correct horse battery staple' };
    const options = { username_env: 'A1111_USER', password_env: 'A1111_PASSWORD' };

    it('sends HTTP Basic credentials read from the named variables', async () => {
      const stand = await startA1111({}, auth);
      const env = { A1111_USER: auth.username, A1111_PASSWORD: auth.password };

      const result = await a1111Model(stand.url, { options, env }).generate(callOptions());

      expect(result.images).toHaveLength(1);
    });

    it('reads the variables at call time, not when the model is built', async () => {
      const stand = await startA1111({}, auth);
      const env: Record<string, string | undefined> = {};
      const model = a1111Model(stand.url, { options, env });
      env.A1111_USER = auth.username;
      env.A1111_PASSWORD = auth.password;

      await expect(model.generate(callOptions())).resolves.toMatchObject({ images: [expect.anything()] });
    });

    it('reports wrong credentials as a credentials failure, which may fall back', async () => {
      const stand = await startA1111({}, auth);
      const env = { A1111_USER: auth.username, A1111_PASSWORD: 'wrong' };

      const error = await failure(a1111Model(stand.url, { options, env }).generate(callOptions()));

      expect(error).toMatchObject({ kind: 'credentials', status: 401 });
      expect(error.message).not.toContain('wrong');
      expect(canFallBack(error.kind)).toBe(true);
      expect(txt2ImgRequests(stand)).toHaveLength(1);
    });

    it('names the missing variable and makes no request', async () => {
      const stand = await startA1111({}, auth);

      const error = await failure(
        a1111Model(stand.url, { options, env: { A1111_USER: 'imagine' } }).generate(callOptions()),
      );

      expect(error).toMatchObject({ kind: 'credentials', message: 'A1111_PASSWORD is not set' });
      expect(stand.requests).toEqual([]);
    });
  });

  it('reports progress while the render runs, rising, then 1 with the result', async () => {
    const running = fixture<{ progress: number }>('progress-running.json');
    const steps = [0.25, 0.5, 0.75];
    let polls = 0;
    let releaseRender: () => void = () => undefined;
    const threePollsServed = new Promise<void>((resolve) => {
      releaseRender = resolve;
    });
    const stand = await startA1111({
      progress: (_request, response) => {
        polls += 1;
        // The first poll may come before A1111 has the job: it answers idle, which is not progress.
        if (polls === 1) return sendJson(response, 200, fixture('progress-idle.json'));
        const progress = steps[Math.min(polls - 2, steps.length - 1)];
        sendJson(response, 200, { ...running, progress });
        if (polls === steps.length + 1) releaseRender();
      },
      txt2img: async (request, response) => {
        await threePollsServed;
        sendJson(response, 200, txt2ImgAnswer(request));
      },
    });
    const reported: number[] = [];

    await a1111Model(stand.url).generate(callOptions({ onProgress: (value) => reported.push(value) }));

    expect(reported).toEqual([0.25, 0.5, 0.75, 1]);
    const poll = stand.requests.find((request) => request.pathname === '/sdapi/v1/progress');
    expect(poll).toMatchObject({ method: 'GET', url: '/sdapi/v1/progress?skip_current_image=true' });
  });

  it('makes no progress poll for a render that is done before the first poll is due', async () => {
    const stand = await startA1111();
    const reported: number[] = [];

    await a1111Model(stand.url, { progressPollMs: 60_000 }).generate(
      callOptions({ onProgress: (value) => reported.push(value) }),
    );

    expect(stand.requests.map((request) => request.pathname)).toEqual(['/sdapi/v1/txt2img']);
    expect(reported).toEqual([1]);
  });

  it('does not poll progress for a caller that does not listen', async () => {
    const stand = await startA1111();

    await a1111Model(stand.url).generate(callOptions({ onProgress: undefined }));

    expect(stand.requests.map((request) => request.pathname)).toEqual(['/sdapi/v1/txt2img']);
  });

  it('interrupts the render when the caller cancels, and rejects as cancelled', async () => {
    const controller = new AbortController();
    let interrupted: () => void = () => undefined;
    const interruptReceived = new Promise<void>((resolve) => {
      interrupted = resolve;
    });
    const stand = await startA1111({
      txt2img: async (request, response) => {
        controller.abort();
        // A1111 answers an interrupted render with what it had; nobody is listening any more.
        await interruptReceived;
        sendJson(response, 200, txt2ImgAnswer(request));
      },
      interrupt: (_request, response) => {
        sendJson(response, 200, {});
        interrupted();
      },
    });

    const error = await rejectionOf(
      a1111Model(stand.url).generate(callOptions({ abortSignal: controller.signal })),
    );

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(interruptRequests(stand)).toHaveLength(1);
    expect(txt2ImgRequests(stand)).toHaveLength(1);
    // What the generator makes of it: a cancelled generation, not a fallback to another model.
    expect(error instanceof ProviderCallError).toBe(false);
  });

  it('sends nothing, not even an interrupt, for a caller who left before the call', async () => {
    const stand = await startA1111();

    const error = await rejectionOf(
      a1111Model(stand.url).generate(callOptions({ abortSignal: AbortSignal.abort() })),
    );

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(stand.requests).toEqual([]);
  });

  it('interrupts a render that passes its timeout, and reports a timeout, which may fall back', async () => {
    let interrupted: () => void = () => undefined;
    const interruptReceived = new Promise<void>((resolve) => {
      interrupted = resolve;
    });
    const stand = await startA1111({
      txt2img: async (request, response) => {
        await interruptReceived;
        sendJson(response, 200, txt2ImgAnswer(request));
      },
      interrupt: (_request, response) => {
        sendJson(response, 200, {});
        interrupted();
      },
    });
    const policy: RetryPolicy = { deadlineMs: 300, attemptTimeoutMs: 300, initialDelayMs: 10, maxRetries: 1 };

    const error = await failure(a1111Model(stand.url, { retryPolicy: policy }).generate(callOptions()));

    expect(error.kind).toBe('timeout');
    expect(canFallBack(error.kind)).toBe(true);
    expect(interruptRequests(stand)).toHaveLength(1);
  });

  it('reports a server that is down as a network failure, which falls back', async () => {
    const error = await failure(a1111Model(await closedPortUrl()).generate(callOptions()));

    expect(error.kind).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
    expect(canFallBack(error.kind)).toBe(true);
    expect(toImagineError(error).code).toBe('provider_unavailable');
  });

  it('tries a 5xx once more, then reports it as unavailable, which falls back', async () => {
    const stand = await startA1111({
      txt2img: (_request, response) => sendJson(response, 500, fixture('error-500-out-of-memory.json')),
    });

    const error = await failure(a1111Model(stand.url).generate(callOptions()));

    expect(error).toMatchObject({ kind: 'unavailable', status: 500 });
    expect(error.message).toContain('OutOfMemoryError');
    expect(canFallBack(error.kind)).toBe(true);
    expect(txt2ImgRequests(stand)).toHaveLength(2);
  });

  it('succeeds when the retry after a 5xx does', async () => {
    let calls = 0;
    const stand = await startA1111({
      txt2img: (request, response) => {
        calls += 1;
        if (calls === 1) return sendJson(response, 500, fixture('error-500-out-of-memory.json'));
        sendJson(response, 200, txt2ImgAnswer(request));
      },
    });

    const result = await a1111Model(stand.url).generate(callOptions());

    expect(result.images).toHaveLength(1);
  });

  it('reports a 422 (a bad field) as rejected, without trying again', async () => {
    const stand = await startA1111({
      txt2img: (_request, response) =>
        sendJson(response, 422, {
          detail: [
            { loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' },
          ],
        }),
    });

    const error = await failure(a1111Model(stand.url).generate(callOptions()));

    expect(error).toMatchObject({ kind: 'rejected', status: 422 });
    expect(txt2ImgRequests(stand)).toHaveLength(1);
  });

  it.each([
    ['no images', () => fixture('txt2img-no-images.json')],
    [
      'images that are not base64',
      () => ({ ...fixture('txt2img-success.json'), images: ['%%% not base64 %%%'] }),
    ],
    [
      'base64 that is not an image',
      () => ({
        ...fixture('txt2img-success.json'),
        images: [Buffer.from('hello, world').toString('base64')],
      }),
    ],
    ['JSON that is not a txt2img answer', () => ({ images: 'iVBORw0KGgo=' })],
  ])('reports an answer with %s as malformed: a failed generation, no fallback', async (_case, answer) => {
    const stand = await startA1111({ txt2img: (_request, response) => sendJson(response, 200, answer()) });

    const error = await failure(a1111Model(stand.url).generate(callOptions()));

    expect(error.kind).toBe('malformed');
    expect(canFallBack(error.kind)).toBe(false);
    expect(toImagineError(error).code).toBe('generation_failed');
  });

  it('reports a body that is not JSON as malformed', async () => {
    const stand = await startA1111({
      txt2img: (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"images": ["iVBOR');
      },
    });

    const error = await failure(a1111Model(stand.url).generate(callOptions()));

    expect(error.kind).toBe('malformed');
  });
});

describe('images in: img2img and upscales', () => {
  let init: InputImage;
  beforeAll(async () => {
    const bytes = await sharp({ create: { width: 320, height: 192, channels: 3, background: '#2a6' } })
      .png()
      .toBuffer();
    init = { bytes, mediaType: 'image/png', width: 320, height: 192 };
  });

  const requestsTo = (stand: StandInServer, endpoint: string) =>
    stand.requests.filter((r) => r.pathname === `/sdapi/v1/${endpoint}`);

  it('posts img2img with the init image as base64 and the strength as denoising_strength', async () => {
    const stand = await startA1111();

    const result = await a1111Model(stand.url).generate(
      callOptions({
        task: 'image_to_image',
        prompt: 'the same lighthouse in winter',
        inputImages: [init],
        strength: 0.35,
        seed: 42,
        size: { width: 320, height: 192 },
      }),
    );

    const [request] = requestsTo(stand, 'img2img');
    expect(request?.body).toEqual({
      prompt: 'the same lighthouse in winter',
      negative_prompt: '',
      seed: 42,
      width: 320,
      height: 192,
      batch_size: 1,
      n_iter: 1,
      steps: 20,
      cfg_scale: 7,
      sampler_name: 'DPM++ 2M',
      override_settings: { sd_model_checkpoint: checkpoint },
      override_settings_restore_afterwards: false,
      send_images: true,
      save_images: false,
      init_images: [Buffer.from(init.bytes).toString('base64')],
      denoising_strength: 0.35,
      resize_mode: 0,
    });
    expect(requestsTo(stand, 'txt2img')).toEqual([]);
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ mediaType: 'image/png', seed: 42 });
  });

  it('upscales through extra-single-image by the factor with the default upscaler', async () => {
    const stand = await startA1111();

    const result = await a1111Model(stand.url).generate(
      callOptions({ task: 'upscale', inputImages: [init], upscaleFactor: 4 }),
    );

    expect(requestsTo(stand, 'extra-single-image').map((r) => r.body)).toEqual([
      {
        image: Buffer.from(init.bytes).toString('base64'),
        resize_mode: 0,
        upscaling_resize: 4,
        upscaler_1: 'R-ESRGAN 4x+',
        gfpgan_visibility: 0,
        codeformer_visibility: 0,
      },
    ]);
    expect(result.images[0]?.dimensions).toEqual({ width: 1280, height: 768 });
    expect(result.images[0]?.seed).toBeUndefined();
    expect(result.warnings).toEqual([]);
  });

  it("sends the entry's upscaler, and warns when the image did not come back at the factor", async () => {
    const stand = await startA1111({
      'extra-single-image': (_request, response) =>
        sendJson(response, 200, fixture('extra-single-image-success.json')),
    });

    const result = await a1111Model(stand.url, { options: { upscaler: '4x-UltraSharp' } }).generate(
      callOptions({ task: 'upscale', inputImages: [init], upscaleFactor: 2 }),
    );

    expect(requestsTo(stand, 'extra-single-image')[0]?.body).toMatchObject({ upscaler_1: '4x-UltraSharp' });
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'size', detail: '640x384 → 256x256' }]);
  });

  it('refuses a task the entry does not list, sending nothing', async () => {
    const stand = await startA1111();

    const error = await failure(
      a1111Model(stand.url, { capabilities: ['text_to_image'] }).generate(
        callOptions({ task: 'image_to_image', inputImages: [init], strength: 0.5 }),
      ),
    );

    expect(error).toMatchObject({ kind: 'rejected' });
    expect(error.message).toContain('cannot do image_to_image');
    expect(stand.requests).toEqual([]);
  });

  it.each([
    ['edit', { inputImages: [] as InputImage[] }, 'cannot do edit'],
    ['image_to_image', { strength: 0.5 }, 'image_to_image needs an input image'],
    ['upscale', { upscaleFactor: 2 }, 'upscale needs an input image'],
  ] as const)('refuses %s without what it needs, sending nothing', async (task, extra, message) => {
    const stand = await startA1111();

    const error = await failure(a1111Model(stand.url).generate(callOptions({ task, ...extra })));

    expect(error.kind).toBe('rejected');
    expect(error.message).toContain(message);
    expect(stand.requests).toEqual([]);
  });

  it("reports A1111's refusal of an init image as rejected, without trying again or falling back", async () => {
    const stand = await startA1111({
      img2img: (_request, response) =>
        sendJson(response, 500, fixture('error-500-invalid-encoded-image.json')),
    });

    const error = await failure(
      a1111Model(stand.url).generate(
        callOptions({ task: 'image_to_image', inputImages: [init], strength: 0.5 }),
      ),
    );

    expect(error).toMatchObject({ kind: 'rejected', status: 500 });
    expect(canFallBack(error.kind)).toBe(false);
    expect(requestsTo(stand, 'img2img')).toHaveLength(1);
  });

  it('still treats an out-of-memory 500 on img2img as the server being unavailable', async () => {
    const stand = await startA1111({
      img2img: (_request, response) => sendJson(response, 500, fixture('error-500-out-of-memory.json')),
    });

    const error = await failure(
      a1111Model(stand.url).generate(
        callOptions({ task: 'image_to_image', inputImages: [init], strength: 0.5 }),
      ),
    );

    expect(error.kind).toBe('unavailable');
  });

  it('reports an extras answer without an image as malformed', async () => {
    const stand = await startA1111({
      'extra-single-image': (_request, response) => sendJson(response, 200, { html_info: '' }),
    });

    const error = await failure(
      a1111Model(stand.url).generate(callOptions({ task: 'upscale', inputImages: [init], upscaleFactor: 2 })),
    );

    expect(error.kind).toBe('malformed');
  });
});

describe('probeAutomatic1111', () => {
  const probeSettings = (baseUrl: string) => ({ baseUrl, vendorModel: checkpoint, options: {}, env: {} });

  it('is ready when the server lists the checkpoint', async () => {
    const stand = await startA1111();

    await expect(probeAutomatic1111(probeSettings(stand.url))).resolves.toEqual({
      ready: true,
      detail: '2 checkpoints on the server',
    });
    expect(stand.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /sdapi/v1/sd-models',
    ]);
  });

  it.each([
    ['its title', 'sd_xl_base_1.0.safetensors [31e35c80fc]'],
    ['its file name', 'sd_xl_base_1.0.safetensors'],
    ['its name', 'sd_xl_base_1.0'],
  ])('finds a checkpoint by %s', async (_case, vendorModel) => {
    const stand = await startA1111();

    const probe = await probeAutomatic1111({ ...probeSettings(stand.url), vendorModel });

    expect(probe.ready).toBe(true);
  });

  it('is not ready when the checkpoint is missing', async () => {
    const stand = await startA1111();

    await expect(
      probeAutomatic1111({ ...probeSettings(stand.url), vendorModel: 'flux1-dev.safetensors' }),
    ).resolves.toEqual({ ready: false, detail: 'the server has no checkpoint "flux1-dev.safetensors"' });
  });

  it('is not ready when the server is down', async () => {
    const probe = await probeAutomatic1111(probeSettings(await closedPortUrl()));

    expect(probe.ready).toBe(false);
    expect(probe.detail).toContain('could not be reached');
  });

  it('is not ready, naming the variable, when an auth variable is missing', async () => {
    const probe = await probeAutomatic1111({
      ...probeSettings('http://127.0.0.1:9'),
      options: { username_env: 'A1111_USER', password_env: 'A1111_PASSWORD' },
    });

    expect(probe).toEqual({ ready: false, detail: 'A1111_USER is not set' });
  });
});

describe('automatic1111OptionsSchema', () => {
  it('takes the sampling fields and a pair of auth variables', () => {
    const options = { steps: 30, cfg_scale: 5.5, sampler: 'Euler a', username_env: 'U', password_env: 'P' };

    expect(automatic1111OptionsSchema.parse(options)).toEqual(options);
  });

  it.each([
    [{ username_env: 'A1111_USER' }, 'password_env'],
    [{ password_env: 'hunter2!' }, 'password_env'],
    [{ steps: 0 }, 'steps'],
    [{ cfg_scale: 'high' }, 'cfg_scale'],
  ])('refuses %j, naming %s', (options, field) => {
    const parsed = automatic1111OptionsSchema.safeParse(options);

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(field);
  });
});
