import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
import type { ImageModelCallOptions } from '../image-model.ts';
import { canFallBack, ProviderCallError, toImagineError } from '../provider-error.ts';
import { endpointUrl } from './openai-compatible-api.ts';
import {
  createOpenAICompatibleImageModel,
  type OpenAICompatibleImageModelSettings,
  probeOpenAICompatible,
} from './openai-compatible-image-model.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const clock = () => new Date('2026-03-01T12:00:05.000Z');
const apiKey = 'sk-local-not-a-real-key';
const fastPolicy: RetryPolicy = {
  deadlineMs: 10_000,
  attemptTimeoutMs: 10_000,
  initialDelayMs: 10,
  maxRetries: 1,
};

function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

const recordedPng = () =>
  Buffer.from(
    fixture<{ data: { b64_json: string }[] }>('images-b64-json.json').data[0]?.b64_json ?? '',
    'base64',
  );

type Route = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

const servers: StandInServer[] = [];

/** A stand-in LocalAI: the images endpoint, the models list, and the generated files it links to. */
async function startServer(
  routes: Partial<Record<'generations' | 'models', Route>> = {},
  auth: string | null = apiKey,
): Promise<StandInServer> {
  const server = await startStandInServer(async (request, response) => {
    if (request.pathname.startsWith('/generated-images/')) {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(recordedPng());
      return;
    }
    if (auth !== null && request.headers.authorization !== `Bearer ${auth}`) {
      sendJson(response, 401, {
        error: { message: 'Unauthorized', type: 'invalid_request_error', code: 401 },
      });
      return;
    }
    const route = `${request.method} ${request.pathname}`;
    if (route === 'POST /v1/images/generations') {
      await (routes.generations ?? ((_, res) => sendJson(res, 200, b64Answer(request))))(request, response);
    } else if (route === 'GET /v1/models') {
      await (routes.models ?? ((_, res) => sendJson(res, 200, fixture('models.json'))))(request, response);
    }
  });
  servers.push(server);
  return server;
}

/** The recorded b64_json answer with `n` images, as the server gives for `response_format: b64_json`. */
function b64Answer(request: ReceivedRequest) {
  const recorded = fixture<{ created: number; data: { b64_json: string }[] }>('images-b64-json.json');
  const { n } = request.body as { n: number };
  return { ...recorded, data: Array.from({ length: n }, () => recorded.data[0]) };
}

/** The recorded url answer, its link moved to `origin` (where the stand-in serves the file). */
function urlAnswer(origin: string) {
  const recorded = fixture<{ created: number; data: { url: string }[] }>('images-url.json');
  const link = new URL(recorded.data[0]?.url ?? '');
  return { ...recorded, data: [{ url: `${origin}${link.pathname}` }] };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  vi.unstubAllEnvs();
});

function settingsFor(
  baseUrl: string,
  overrides: Partial<OpenAICompatibleImageModelSettings> = {},
): OpenAICompatibleImageModelSettings {
  return {
    modelId: 'localai-sd',
    baseUrl,
    vendorModel: 'stablediffusion',
    apiKeyEnv: 'LOCALAI_API_KEY',
    env: { LOCALAI_API_KEY: apiKey },
    sizes: undefined,
    maxImagesPerCall: 4,
    timeoutMs: 10_000,
    retryPolicy: fastPolicy,
    now: clock,
    ...overrides,
  };
}

function compatibleModel(baseUrl: string, overrides: Partial<OpenAICompatibleImageModelSettings> = {}) {
  return createOpenAICompatibleImageModel(settingsFor(baseUrl, overrides));
}

function callOptions(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({ size: { width: 512, height: 512 }, ...overrides });
}

const generations = (server: StandInServer) =>
  server.requests.filter((request) => request.pathname === '/v1/images/generations');
const failure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

describe('endpointUrl', () => {
  it.each([
    ['http://gpu-box:8080', 'http://gpu-box:8080/v1/images/generations'],
    ['http://gpu-box:8080/', 'http://gpu-box:8080/v1/images/generations'],
    ['http://gpu-box:8080/v1', 'http://gpu-box:8080/v1/images/generations'],
    ['http://gpu-box:8080/v1/', 'http://gpu-box:8080/v1/images/generations'],
    ['https://lan.example/localai', 'https://lan.example/localai/v1/images/generations'],
  ])('puts the images endpoint of %s at %s', (baseUrl, expected) => {
    expect(endpointUrl(baseUrl, '/images/generations')).toBe(expected);
  });
});

describe('createOpenAICompatibleImageModel', () => {
  it('posts an images request with the vendor model and its key, and returns the base64 PNGs', async () => {
    const server = await startServer();

    const result = await compatibleModel(server.url).generate(callOptions({ n: 2 }));

    expect(generations(server).map((request) => request.body)).toEqual([
      {
        model: 'stablediffusion',
        prompt: 'a lighthouse on a cliff at sunset',
        n: 2,
        size: '512x512',
        response_format: 'b64_json',
      },
    ]);
    expect(generations(server)[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect(image).toMatchObject({ mediaType: 'image/png', dimensions: { width: 512, height: 512 } });
      expect(Buffer.from(image.bytes).equals(recordedPng())).toBe(true);
    }
    expect(result.warnings).toEqual([]);
    expect(result.response).toEqual({
      modelId: 'localai-sd',
      timestamp: clock(),
      providerRequestId: undefined,
      revisedPrompt: undefined,
    });
    expect(result.usage.costUsd).toBeUndefined();
  });

  it('does not add a second /v1 to a base_url that ends with it', async () => {
    const server = await startServer();

    await compatibleModel(`${server.url}/v1/`).generate(callOptions());

    expect(server.requests.map((request) => request.url)).toEqual(['/v1/images/generations']);
  });

  it('warns that a seed and a negative prompt are not sent', async () => {
    const server = await startServer();

    const result = await compatibleModel(server.url).generate(
      callOptions({ seed: 7, negativePrompt: 'blurry' }),
    );

    expect(generations(server)[0]?.body).not.toHaveProperty('seed');
    expect(JSON.stringify(generations(server)[0]?.body)).not.toContain('blurry');
    expect(result.warnings.map((warning) => [warning.type, warning.feature])).toEqual([
      ['unsupported', 'seed'],
      ['unsupported', 'negative_prompt'],
    ]);
  });

  it('maps a size to the nearest one the entry lists, with a warning', async () => {
    const server = await startServer();
    const sizes = [
      { width: 512, height: 512 },
      { width: 1024, height: 576 },
    ];

    const result = await compatibleModel(server.url, { sizes }).generate(
      callOptions({ size: { width: 1344, height: 768 } }),
    );

    expect(generations(server)[0]?.body).toMatchObject({ size: '1024x576' });
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'size', detail: '1344x768 → 1024x576' }]);
  });

  it('sends any size as asked when the entry allows any', async () => {
    const server = await startServer();

    const result = await compatibleModel(server.url).generate(
      callOptions({ size: { width: 1344, height: 768 } }),
    );

    expect(generations(server)[0]?.body).toMatchObject({ size: '1344x768' });
    expect(result.warnings).toEqual([]);
  });

  it('downloads images the server links to on its own origin, plain http and loopback included', async () => {
    const server = await startServer({
      generations: (_request, response) => sendJson(response, 200, urlAnswer(server.url)),
    });

    const result = await compatibleModel(server.url).generate(callOptions());

    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({
      mediaType: 'image/png',
      dimensions: { width: 512, height: 512 },
    });
    expect(server.requests.map((request) => `${request.method} ${request.pathname}`)).toEqual([
      'POST /v1/images/generations',
      'GET /generated-images/b64237146831.png',
    ]);
  });

  it('refuses a link to another origin without fetching it', async () => {
    const elsewhere = await startServer({}, null);
    const server = await startServer({
      generations: (_request, response) => sendJson(response, 200, urlAnswer(elsewhere.url)),
    });

    const error = await failure(compatibleModel(server.url).generate(callOptions()));

    expect(error.kind).toBe('malformed');
    expect(elsewhere.requests).toEqual([]);
  });

  it('sends no key when the entry names none, whatever OPENAI_API_KEY and OPENAI_BASE_URL say', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-openai-must-not-leak');
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:9/v1');
    const server = await startServer({}, null);

    // No `env`: the model reads process.env, and still sends only what its entry names.
    const { env: _env, ...withoutEnv } = { ...settingsFor(server.url), apiKeyEnv: undefined };
    await createOpenAICompatibleImageModel(withoutEnv).generate(callOptions());

    expect(generations(server)).toHaveLength(1);
    expect(generations(server)[0]?.headers.authorization).toBeUndefined();
  });

  it('leaves `model` out when the entry names no vendor model', async () => {
    const server = await startServer();

    await compatibleModel(server.url, { vendorModel: undefined }).generate(callOptions());

    expect(generations(server)[0]?.body).not.toHaveProperty('model');
  });

  it('names the missing key variable and makes no request', async () => {
    const server = await startServer();

    const error = await failure(compatibleModel(server.url, { env: {} }).generate(callOptions()));

    expect(error).toMatchObject({ kind: 'credentials', message: 'LOCALAI_API_KEY is not set' });
    expect(server.requests).toEqual([]);
  });

  it('reports a 401 as bad credentials, which may fall back', async () => {
    const server = await startServer();

    const error = await failure(
      compatibleModel(server.url, { env: { LOCALAI_API_KEY: 'sk-wrong' } }).generate(callOptions()),
    );

    expect(error).toMatchObject({ kind: 'credentials', status: 401 });
    expect(error.message).not.toContain('sk-wrong');
    expect(canFallBack(error.kind)).toBe(true);
  });

  it('reports a 400 as rejected, without trying again or falling back', async () => {
    const server = await startServer({
      generations: (_request, response) => sendJson(response, 400, fixture('error-400.json')),
    });

    const error = await failure(compatibleModel(server.url).generate(callOptions()));

    expect(error).toMatchObject({ kind: 'rejected', status: 400 });
    expect(error.message).toContain("Invalid value for 'size'");
    expect(canFallBack(error.kind)).toBe(false);
    expect(generations(server)).toHaveLength(1);
  });

  it('reports a safety refusal as safety', async () => {
    const server = await startServer({
      generations: (_request, response) =>
        sendJson(response, 400, {
          error: {
            message: 'Your request was rejected by the safety system.',
            type: 'invalid_request_error',
            code: 'content_policy_violation',
          },
        }),
    });

    const error = await failure(compatibleModel(server.url).generate(callOptions()));

    expect(error.kind).toBe('safety');
  });

  it('tries a 5xx once more, then reports it as unavailable, which falls back', async () => {
    const server = await startServer({
      generations: (_request, response) => sendJson(response, 500, fixture('error-500.json')),
    });

    const error = await failure(compatibleModel(server.url).generate(callOptions()));

    expect(error).toMatchObject({ kind: 'unavailable', status: 500 });
    expect(canFallBack(error.kind)).toBe(true);
    expect(generations(server)).toHaveLength(2);
  });

  it('reports a server that is down as a network failure, which falls back', async () => {
    const error = await failure(compatibleModel(await closedPortUrl()).generate(callOptions()));

    expect(error.kind).toBe('network');
    expect(canFallBack(error.kind)).toBe(true);
    expect(toImagineError(error).code).toBe('provider_unavailable');
  });

  it('times out a server that does not answer, which falls back', async () => {
    const server = await startServer({ generations: () => new Promise(() => undefined) });
    const policy: RetryPolicy = { deadlineMs: 300, attemptTimeoutMs: 300, initialDelayMs: 10, maxRetries: 1 };

    const error = await failure(compatibleModel(server.url, { retryPolicy: policy }).generate(callOptions()));

    expect(error.kind).toBe('timeout');
    expect(canFallBack(error.kind)).toBe(true);
  });

  it.each([
    ['no images', () => ({ created: 1740830405, data: [] })],
    [
      'an image with neither b64_json nor url',
      () => ({ created: 1740830405, data: [{ revised_prompt: 'x' }] }),
    ],
    [
      'base64 that is not an image',
      () => ({ created: 1740830405, data: [{ b64_json: Buffer.from('hello').toString('base64') }] }),
    ],
    ['a body that is not JSON', () => 'not json'],
  ])('reports an answer with %s as malformed: a failed generation, no fallback', async (_case, answer) => {
    const server = await startServer({
      generations: (_request, response) => {
        const body = answer();
        if (typeof body === 'string') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(body);
        } else sendJson(response, 200, body);
      },
    });

    const error = await failure(compatibleModel(server.url).generate(callOptions()));

    expect(error.kind).toBe('malformed');
    expect(canFallBack(error.kind)).toBe(false);
    expect(toImagineError(error).code).toBe('generation_failed');
  });
});

describe('probeOpenAICompatible', () => {
  const probeSettings = (baseUrl: string) => ({
    baseUrl,
    vendorModel: 'stablediffusion',
    apiKeyEnv: 'LOCALAI_API_KEY',
    env: { LOCALAI_API_KEY: apiKey },
  });

  it('is ready when GET /v1/models lists the vendor model', async () => {
    const server = await startServer();

    await expect(probeOpenAICompatible(probeSettings(server.url))).resolves.toEqual({
      ready: true,
      detail: '2 models on the server',
    });
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /v1/models']);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('is not ready when the model is not listed', async () => {
    const server = await startServer();

    await expect(
      probeOpenAICompatible({ ...probeSettings(`${server.url}/v1`), vendorModel: 'flux-dev' }),
    ).resolves.toEqual({ ready: false, detail: 'the server does not list the model "flux-dev"' });
  });

  it('is not ready when the server is down', async () => {
    const probe = await probeOpenAICompatible(probeSettings(await closedPortUrl()));

    expect(probe.ready).toBe(false);
    expect(probe.detail).toContain('could not be reached');
  });

  it('is not ready, naming the variable, when the key is missing', async () => {
    const probe = await probeOpenAICompatible({ ...probeSettings('http://127.0.0.1:9'), env: {} });

    expect(probe).toEqual({ ready: false, detail: 'LOCALAI_API_KEY is not set' });
  });
});
