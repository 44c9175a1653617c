/**
 * A provider is one folder and one line of registration: this file is the "folder" (a descriptor and
 * its model, speaking to a stand-in GPU server on 127.0.0.1) and `providers: [standInGpuProvider]` is the
 * line. Nothing else in the service names it, yet a MODELS_FILE entry routes, falls back, queues, is
 * priced, offered by plan and probed like any built-in model.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callWithRetries } from '../../core/providers/call-with-retries.ts';
import { defineProvider } from '../../core/providers/provider-descriptor.ts';
import { ProviderCallError } from '../../core/providers/provider-error.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { storedImageFiles, tinyPng } from '../../test-support/test-services.ts';

const provider = 'stand-in-gpu';

/** The provider's own entry field, validated by its own schema. */
const standInOptions = z.strictObject({ steps: z.number().int().min(1).max(150).default(20) });

function classify(error: unknown): ProviderCallError {
  if (error instanceof ProviderCallError) return error;
  return new ProviderCallError('network', `stand-in GPU unreachable: ${String(error)}`, {
    provider,
    cause: error,
  });
}

/** POST {base_url}/render {prompt, width, height, steps, batch_size} → {images: [base64 PNG]}. */
const standInGpuProvider = defineProvider({
  name: provider,
  hosting: 'self-hosted',
  capabilities: ['text_to_image'],
  entryOptions: standInOptions,
  isConfigured: (model, context) => model.apiKeyEnv === undefined || !!context.variable(model.apiKeyEnv),
  createModel: (model, context) => ({
    provider,
    modelId: model.id,
    maxImagesPerCall: model.maxImagesPerCall,
    async generate(options) {
      const key = model.apiKeyEnv ? context.variable(model.apiKeyEnv) : undefined;
      const body = await callWithRetries(
        async (signal) => {
          const response = await fetch(`${model.baseUrl}/render`, {
            method: 'POST',
            signal,
            headers: {
              'content-type': 'application/json',
              ...(key ? { authorization: `Bearer ${key}` } : {}),
            },
            body: JSON.stringify({
              prompt: options.prompt,
              width: options.size.width,
              height: options.size.height,
              steps: model.options.steps,
              batch_size: options.n,
              checkpoint: model.providerModel,
            }),
          });
          if (response.status >= 500) {
            throw new ProviderCallError('unavailable', `stand-in GPU answered ${response.status}`, {
              provider,
              status: response.status,
            });
          }
          return (await response.json()) as { images: string[] };
        },
        { policy: context.retryPolicy, classify, abortSignal: options.abortSignal },
      );
      return {
        images: body.images.map((image) => ({
          bytes: Uint8Array.from(Buffer.from(image, 'base64')),
          mediaType: 'image/png' as const,
        })),
        warnings: [],
        response: {
          modelId: model.id,
          timestamp: new Date(),
          providerRequestId: undefined,
          revisedPrompt: undefined,
        },
        usage: { costUsd: undefined },
      };
    },
  }),
  probe: async (model, _context, signal) => {
    const response = await fetch(`${model.baseUrl}/ping`, { signal }).catch((error: unknown) => {
      throw classify(error);
    });
    if (!response.ok)
      throw new ProviderCallError('unavailable', `ping answered ${response.status}`, { provider });
  },
});

/** The stand-in GPU: records what it was sent and how many renders ran at once. */
interface StandInGpu {
  baseUrl: string;
  requests: Record<string, unknown>[];
  authorizations: (string | undefined)[];
  mostInFlight: number;
  /** Renders wait here until the test lets them finish. */
  hold: boolean;
  release(): void;
  close(): Promise<void>;
}

async function startStandInGpu(): Promise<StandInGpu> {
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const gpu: StandInGpu = {
    baseUrl: '',
    requests: [],
    authorizations: [],
    mostInFlight: 0,
    hold: false,
    release() {
      gpu.hold = false;
      for (const next of waiting.splice(0)) next();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer(async (request, response) => {
    if (request.url === '/ping') {
      response.end('{}');
      return;
    }
    let text = '';
    for await (const chunk of request) text += chunk;
    gpu.requests.push(JSON.parse(text) as Record<string, unknown>);
    gpu.authorizations.push(request.headers.authorization);
    inFlight++;
    gpu.mostInFlight = Math.max(gpu.mostInFlight, inFlight);
    if (gpu.hold) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight--;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ images: [Buffer.from(tinyPng).toString('base64')] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gpu.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gpu;
}

/** A port nothing listens on: connection refused. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let current: TestApp | undefined;
let gpu: StandInGpu | undefined;
let folder: string | undefined;
afterEach(async () => {
  gpu?.release();
  await current?.close();
  await gpu?.close();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
  current = undefined;
  gpu = undefined;
  folder = undefined;
});

function modelsFile(name: string, text: string): string {
  folder ??= fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-models-'));
  const file = path.join(folder, name);
  fs.writeFileSync(file, text);
  return file;
}

async function generate(testApp: TestApp, authorization: string, body: object) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: { prompt: 'a lighthouse at dusk', size: '1024x768', ...body },
    headers: { authorization },
  });
}

describe('a provider registered by one line', () => {
  it('serves a MODELS_FILE model through the REST API, with its own fields, key and price', async () => {
    gpu = await startStandInGpu();
    const file = modelsFile(
      'models.yaml',
      [
        'models:',
        '  - id: sdxl-box',
        `    provider: ${provider}`,
        `    base_url: ${gpu.baseUrl}/`,
        '    vendor_model: sd_xl_base_1.0',
        '    price_usd: 0.002',
        '    api_key_env: GPU_BOX_KEY',
        '    steps: 30',
      ].join('\n'),
    );
    current = await createTestApp(
      { MODELS_FILE: file, GPU_BOX_KEY: 'gpu-secret-value' },
      { providers: [standInGpuProvider] },
    );
    const authorization = await current.bearerFor('alice');

    const response = await generate(current, authorization, { model: 'sdxl-box' });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ model: 'sdxl-box', cost: 0.002, size: '1024x768' });
    expect(response.body).not.toContain('gpu-secret-value');
    expect(gpu.requests).toEqual([
      expect.objectContaining({
        width: 1024,
        height: 768,
        steps: 30,
        batch_size: 1,
        checkpoint: 'sd_xl_base_1.0',
      }),
    ]);
    expect(gpu.authorizations).toEqual(['Bearer gpu-secret-value']);
    expect(storedImageFiles(current.services)).toHaveLength(1);
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });

    const models = await current.app.inject({
      method: 'GET',
      url: '/api/v1/models',
      headers: { authorization },
    });
    expect(models.json().models).toContainEqual({
      id: 'sdxl-box',
      provider,
      description: `${provider} sd_xl_base_1.0`,
      sizes: 'any',
      max_images_per_call: 1,
      price_usd: 0.002,
      capabilities: ['text_to_image'],
      default: false,
    });
  });

  it('is offered only to the plans its entry lists, and refused to the others', async () => {
    gpu = await startStandInGpu();
    const file = modelsFile(
      'models.json',
      JSON.stringify({ models: [{ id: 'gpu-pro', provider, base_url: gpu.baseUrl, plans: ['pro'] }] }),
    );
    current = await createTestApp({ MODELS_FILE: file }, { providers: [standInGpuProvider] });
    const free = await current.bearerFor('fay', 'free');
    const pro = await current.bearerFor('pat', 'pro');
    const listed = async (authorization: string) =>
      (await current?.app.inject({ method: 'GET', url: '/api/v1/models', headers: { authorization } }))
        ?.json()
        .models.map((model: { id: string }) => model.id);
    expect(await listed(free)).toEqual(['placeholder']);
    expect(await listed(pro)).toEqual(['placeholder', 'gpu-pro']);

    const refused = await generate(current, free, { model: 'gpu-pro' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'model_not_allowed', model: 'gpu-pro', plan: 'free' });
    expect((await generate(current, pro, { model: 'gpu-pro' })).statusCode).toBe(201);
  });

  it('falls back like a cloud model when its server refuses connections, and health only reports it', async () => {
    const port = await closedPort();
    const file = modelsFile(
      'models.yml',
      [
        'models:',
        `  - id: gpu-down`,
        `    provider: ${provider}`,
        `    base_url: http://127.0.0.1:${port}`,
        '    timeout_ms: 300',
      ].join('\n'),
    );
    current = await createTestApp(
      { MODELS_FILE: file, IMAGE_MODEL: 'gpu-down', IMAGE_FALLBACK_MODELS: 'placeholder' },
      { providers: [standInGpuProvider] },
    );
    const response = await generate(current, await current.bearerFor('alice'), {});
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ model: 'placeholder', cost: 0 });

    const health = await current.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json().provider).toMatchObject({
      default_model: 'gpu-down',
      ready: true,
      readiness: [
        { id: 'placeholder', provider: 'placeholder', ready: true },
        { id: 'gpu-down', provider, ready: false, problem: 'network' },
      ],
    });
  });

  it('answers 503 on /health when neither the default model nor a fallback is ready', async () => {
    const port = await closedPort();
    const file = modelsFile(
      'models.json',
      JSON.stringify({ models: [{ id: 'gpu-down', provider, base_url: `http://127.0.0.1:${port}` }] }),
    );
    current = await createTestApp(
      { MODELS_FILE: file, IMAGE_MODEL: 'gpu-down' },
      { providers: [standInGpuProvider] },
    );
    const health = await current.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'degraded', provider: { ready: false } });
  });

  it('takes one call at a time per server by default: the second caller waits for the GPU', async () => {
    gpu = await startStandInGpu();
    const file = modelsFile(
      'models.json',
      JSON.stringify({
        models: [
          { id: 'box-a', provider, base_url: gpu.baseUrl },
          { id: 'box-b', provider, base_url: gpu.baseUrl, vendor_model: 'other.safetensors' },
        ],
      }),
    );
    current = await createTestApp({ MODELS_FILE: file }, { providers: [standInGpuProvider] });
    gpu.hold = true;
    const running = gpu;
    // Two users, so nothing but the model's own limit can make the second wait.
    const first = generate(current, await current.bearerFor('alice'), { model: 'box-a' });
    const second = generate(current, await current.bearerFor('bob'), { model: 'box-b' });
    await expect.poll(() => running.requests.length).toBe(1);
    running.release();
    const responses = await Promise.all([first, second]);
    expect(responses.map((response) => response.statusCode)).toEqual([201, 201]);
    expect(running.requests).toHaveLength(2);
    expect(running.mostInFlight).toBe(1);
  });

  it('shows a job waiting for the busy GPU its place in line, over REST', async () => {
    gpu = await startStandInGpu();
    const file = modelsFile(
      'models.json',
      JSON.stringify({ models: [{ id: 'box-a', provider, base_url: gpu.baseUrl }] }),
    );
    current = await createTestApp({ MODELS_FILE: file }, { providers: [standInGpuProvider] });
    const testApp = current;
    gpu.hold = true;
    const running = gpu;
    const first = generate(testApp, await testApp.bearerFor('alice'), { model: 'box-a' });
    await expect.poll(() => running.requests.length).toBe(1);
    const bob = await testApp.bearerFor('bob');
    const accepted = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/generate/image',
      payload: { prompt: 'a lighthouse at dusk', size: '1024x768', model: 'box-a' },
      headers: { authorization: bob, prefer: 'respond-async' },
    });
    const job = () =>
      testApp.app
        .inject({
          method: 'GET',
          url: `/api/v1/jobs/${accepted.json().job_id}`,
          headers: { authorization: bob },
        })
        .then((response) => response.json());
    // Bob's own line is empty: it is the GPU that keeps him waiting, first in its line.
    await expect.poll(job).toMatchObject({ status: 'running', position: 1 });
    running.release();
    expect((await first).statusCode).toBe(201);
    await expect.poll(job).toMatchObject({ status: 'succeeded', position: 0 });
  });
});
