import path from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../../test-support/capturing-logger.ts';
import {
  type ComfyUIStandIn,
  type ComfyUIStandInOptions,
  comfyuiFixture,
  recordedPromptId,
  type StandInJob,
  startComfyUIStandIn,
} from '../../../test-support/comfyui-stand-in.ts';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import { freePort } from '../../../test-support/server-process.ts';
import { canFallBack, ProviderCallError, toImagineError } from '../provider-error.ts';
import {
  type ComfyUIImageModelSettings,
  createComfyUIImageModel,
  probeComfyUI,
} from './comfyui-image-model.ts';
import { loadComfyUIWorkflow, parseComfyUIWorkflow } from './comfyui-workflow.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../../../..');
const sdxl = loadComfyUIWorkflow('workflows/sdxl-text-to-image.json', { relativeTo: repositoryRoot });

let standIn: ComfyUIStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function start(options: ComfyUIStandInOptions = {}): Promise<ComfyUIStandIn> {
  standIn = await startComfyUIStandIn(options);
  return standIn;
}

function modelFor(baseUrl: string, overrides: Partial<ComfyUIImageModelSettings> = {}) {
  return createComfyUIImageModel({
    modelId: 'sdxl-local',
    baseUrl,
    workflow: sdxl,
    maxImagesPerCall: 4,
    timeoutMs: 15_000,
    // Polls come often so that the fallback tests do not wait on a clock; nothing here depends on timing.
    pollIntervalMs: 10,
    retryPolicy: { maxRetries: 0 },
    ...overrides,
  });
}

/** The one queued graph, as the stand-in received it. */
function submitted(server: ComfyUIStandIn): StandInJob {
  expect(server.jobs).toHaveLength(1);
  return server.jobs[0] as StandInJob;
}

/** A logger that resolves `seen` with the first line whose message contains `text`. */
function loggerAwaiting(text: string): { logger: Logger; seen: Promise<Record<string, unknown>> } {
  let resolve: (line: Record<string, unknown>) => void = () => undefined;
  const seen = new Promise<Record<string, unknown>>((done) => {
    resolve = done;
  });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as Record<string, unknown>;
      if (String(line.msg).includes(text)) resolve(line);
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), seen };
}

function requestsTo(server: ComfyUIStandIn, method: string, prefix: string) {
  return server.requests.filter((request) => request.method === method && request.path.startsWith(prefix));
}

describe('a ComfyUI model', () => {
  it('queues the filled workflow with its client id, follows it on the websocket and returns the saved image', async () => {
    const server = await start();
    const announced: string[] = [];
    const model = modelFor(server.baseUrl, { apiKey: 'proxy-key' });

    const result = await model.generate(
      modelCallOptions({
        prompt: 'a lighthouse on a cliff at sunset',
        negativePrompt: 'blurry, watermark',
        seed: 1234,
        onProviderRequest: (id) => announced.push(id),
      }),
    );

    const [post] = requestsTo(server, 'POST', '/prompt');
    const body = post?.body as { prompt: StandInJob['graph']; client_id: string };
    expect(body.prompt['6']?.inputs.text).toBe('a lighthouse on a cliff at sunset');
    expect(body.prompt['7']?.inputs.text).toBe('blurry, watermark');
    expect(body.prompt['3']?.inputs).toMatchObject({ seed: 1234, steps: 30, model: ['4', 0] });
    expect(body.prompt['5']?.inputs).toEqual({ width: 1024, height: 1024, batch_size: 1 });
    expect(post?.headers.authorization).toBe('Bearer proxy-key');
    const [socket] = requestsTo(server, 'GET', '/ws');
    expect(socket?.query.get('clientId')).toBe(body.client_id);
    expect(socket?.headers.authorization).toBe('Bearer proxy-key');

    const [view] = requestsTo(server, 'GET', '/view');
    expect(Object.fromEntries(view?.query ?? [])).toEqual({
      filename: 'sdxl_00001_.png',
      subfolder: 'imagine',
      type: 'output',
    });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.mediaType).toBe('image/png');
    expect(result.images[0]?.dimensions).toEqual({ width: 1024, height: 1024 });
    expect(
      Buffer.from(result.images[0]?.bytes ?? [])
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    expect(result.warnings).toEqual([]);
    expect(result.response).toMatchObject({ modelId: 'sdxl-local', providerRequestId: recordedPromptId });
    expect(result.usage.costUsd).toBeUndefined();
    expect(announced).toEqual([recordedPromptId]);
  });

  it('sends the seed asked for as a number, and a seed of its own when none is asked', async () => {
    const server = await start();
    await modelFor(server.baseUrl).generate(modelCallOptions({ seed: 4_294_967_295 }));
    expect(submitted(server).graph['3']?.inputs.seed).toBe(4_294_967_295);

    const second = await start();
    await modelFor(second.baseUrl, { randomSeed: () => 77 }).generate(modelCallOptions({ seed: undefined }));
    expect(submitted(second).graph['3']?.inputs.seed).toBe(77);
  });

  it('renders the size asked for, and a batch as one prompt with batch_size', async () => {
    const server = await start();
    const result = await modelFor(server.baseUrl).generate(
      modelCallOptions({ n: 2, size: { width: 832, height: 1216 }, seed: 9 }),
    );
    expect(submitted(server).graph['5']?.inputs).toEqual({ width: 832, height: 1216, batch_size: 2 });
    expect(result.images.map((image) => image.dimensions)).toEqual([
      { width: 832, height: 1216 },
      { width: 832, height: 1216 },
    ]);
    expect(result.warnings).toEqual([
      expect.objectContaining({
        type: 'other',
        feature: 'seed',
        detail: expect.stringContaining('one seed'),
      }),
    ]);
  });

  it('says what a fixed-size workflow without {{seed}} or {{batch_size}} did instead', async () => {
    const server = await start();
    const fixed = parseComfyUIWorkflow(
      {
        ...sdxl.graph,
        '3': { ...sdxl.graph['3'], inputs: { ...sdxl.graph['3']?.inputs, seed: 5 } },
        '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
        '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] } },
      },
      'fixed.json',
    );
    const model = modelFor(server.baseUrl, { workflow: fixed });
    expect(model.maxImagesPerCall).toBe(1);

    const result = await model.generate(modelCallOptions({ seed: 3, negativePrompt: 'blurry' }));
    expect(result.images[0]?.dimensions).toEqual({ width: 512, height: 512 });
    expect(result.warnings.map((warning) => [warning.type, warning.feature])).toEqual([
      ['unsupported', 'seed'],
      ['unsupported', 'negative_prompt'],
      ['mapped', 'size'],
    ]);
  });

  it('reports the sampler’s progress from the websocket as 0–1', async () => {
    const server = await start();
    const progress: number[] = [];
    await modelFor(server.baseUrl).generate(
      modelCallOptions({ onProgress: (value) => progress.push(value) }),
    );
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('polls /history when the websocket cannot connect', async () => {
    const server = await start({
      websocket: false,
      // The prompt is still running for the first two reads.
      history: (promptId, poll, recorded) => (poll < 3 || !recorded ? {} : { [promptId]: recorded }),
    });
    const result = await modelFor(server.baseUrl).generate(modelCallOptions({ seed: 1 }));
    expect(result.images).toHaveLength(1);
    // Read until the entry was there: at least the two "still running" answers and the finished one.
    expect(requestsTo(server, 'GET', `/history/${recordedPromptId}`).length).toBeGreaterThanOrEqual(3);
    expect(requestsTo(server, 'GET', '/view')).toHaveLength(1);
    expect(result.response.providerRequestId).toBe(recordedPromptId);
  });

  it('polls /history when the websocket drops while the prompt runs', async () => {
    const progress: number[] = [];
    const server = await start({
      onQueued: (job, comfy) => {
        const messages = comfyuiFixture('websocket-messages.json', job.promptId) as unknown[];
        comfy.send(job.clientId, messages[8]);
      },
    });
    const result = await modelFor(server.baseUrl).generate(
      modelCallOptions({
        onProgress: (value) => {
          progress.push(value);
          // The socket goes, then the prompt ends: its last messages reach nobody.
          server.dropSockets();
          void server.finish(server.jobs[0] as StandInJob);
        },
      }),
    );
    expect(progress).toEqual([0.25]);
    expect(result.images).toHaveLength(1);
    expect(requestsTo(server, 'GET', '/history/').length).toBeGreaterThanOrEqual(1);
  });

  it('a retry follows the prompt it already queued instead of queueing it again', async () => {
    const server = await start({ websocket: false, historyFailures: 1 });
    const result = await modelFor(server.baseUrl, {
      retryPolicy: { maxRetries: 2, initialDelayMs: 1 },
    }).generate(modelCallOptions());
    expect(result.images).toHaveLength(1);
    expect(requestsTo(server, 'POST', '/prompt')).toHaveLength(1);
    expect(requestsTo(server, 'GET', '/history/').length).toBeGreaterThanOrEqual(2);
  });

  it('a prompt interrupted by someone else on the GPU box is queued again', async () => {
    const server = await start({
      onQueued: (job, comfy) => {
        if (comfy.jobs.length > 1) return comfy.finish(job);
        comfy.send(job.clientId, {
          type: 'execution_interrupted',
          data: { prompt_id: job.promptId, node_id: '3', node_type: 'KSampler', executed: ['4'] },
        });
      },
    });
    const result = await modelFor(server.baseUrl, {
      retryPolicy: { maxRetries: 1, initialDelayMs: 1 },
    }).generate(modelCallOptions());
    expect(requestsTo(server, 'POST', '/prompt')).toHaveLength(2);
    expect(result.response.providerRequestId).toBe(server.jobs[1]?.promptId);
  });

  it('on cancel, rejects with the caller’s reason and interrupts the prompt it queued', async () => {
    const server = await start({
      onQueued: (job, comfy) => {
        comfy.send(job.clientId, {
          type: 'progress',
          data: { value: 1, max: 20, prompt_id: job.promptId, node: '3' },
        });
      },
    });
    const controller = new AbortController();
    const running = modelFor(server.baseUrl).generate(
      modelCallOptions({ abortSignal: controller.signal, onProgress: () => controller.abort() }),
    );
    const error = await rejectionOf<Error>(running);
    expect(error.name).toBe('AbortError');
    expect(controller.signal.reason).toBe(error);

    const interrupt = await server.request('POST', '/interrupt');
    expect(interrupt.body).toEqual({ prompt_id: recordedPromptId });
    const [dequeue] = requestsTo(server, 'POST', '/queue');
    expect(dequeue?.body).toEqual({ delete: [recordedPromptId] });
    expect(submitted(server).state).toBe('interrupted');
  });

  it('takes a cancelled prompt that has not started off the queue, and interrupts nothing', async () => {
    const server = await start({
      onQueued: (job) => {
        job.state = 'pending';
      },
    });
    const { logger, seen } = loggerAwaiting('ComfyUI prompt cancelled');
    const controller = new AbortController();
    const running = modelFor(server.baseUrl, { logger }).generate(
      modelCallOptions({ abortSignal: controller.signal, onProviderRequest: () => controller.abort() }),
    );
    await rejectionOf(running);
    expect(await seen).toMatchObject({ promptId: recordedPromptId, how: 'dequeued' });
    expect(submitted(server).state).toBe('deleted');
    expect(requestsTo(server, 'POST', '/interrupt')).toEqual([]);
  });

  it('a server that is down fails as `network`, which routing falls back from', async () => {
    const port = await freePort();
    const error = await rejectionOf(
      modelFor(`http://127.0.0.1:${port}`).generate(modelCallOptions()),
      ProviderCallError,
    );
    expect(error.kind).toBe('network');
    expect(error.provider).toBe('comfyui');
    expect(canFallBack(error.kind)).toBe(true);
    expect(toImagineError(error).code).toBe('provider_unavailable');
  });

  it('a prompt that never ends within timeout_ms is a `timeout`, which routing falls back from', async () => {
    // The stand-in never finishes the prompt, so the deadline is the only way out, however slow the machine.
    const server = await start({ onQueued: () => undefined });
    const error = await rejectionOf(
      modelFor(server.baseUrl, { timeoutMs: 300 }).generate(modelCallOptions()),
      ProviderCallError,
    );
    expect(error.kind).toBe('timeout');
    expect(canFallBack(error.kind)).toBe(true);
  });

  it('a 5xx from ComfyUI is `unavailable`, which routing falls back from', async () => {
    const server = await start({ promptReply: { status: 502, body: { error: 'Bad Gateway' } } });
    const error = await rejectionOf(modelFor(server.baseUrl).generate(modelCallOptions()), ProviderCallError);
    expect(error.kind).toBe('unavailable');
    expect(error.status).toBe(502);
    expect(canFallBack(error.kind)).toBe(true);
  });

  it('a node ComfyUI refuses is a generation_failed whose log names the node', async () => {
    const server = await start({
      promptReply: { status: 400, body: comfyuiFixture('prompt-node-errors-400.json') },
    });
    const { logger, output } = capturingLogger();
    const error = await rejectionOf(
      modelFor(server.baseUrl, { logger }).generate(modelCallOptions()),
      ProviderCallError,
    );
    expect(error.kind).toBe('rejected');
    expect(canFallBack(error.kind)).toBe(false);
    expect(toImagineError(error).code).toBe('generation_failed');
    expect(error.message).toContain(sdxl.file);
    expect(error.message).toContain(
      "node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'sd_xl_base_1.0.safetensors' not in",
    );
    const logged = JSON.parse(output().trim().split('\n')[0] ?? '{}');
    expect(logged).toMatchObject({ node: '4', classType: 'CheckpointLoaderSimple', workflow: sdxl.file });
    expect(output()).not.toContain('a lighthouse');
  });

  it('a node that fails while running (the websocket says so) is a generation_failed naming the node', async () => {
    const server = await start({
      onQueued: (job, comfy) =>
        comfy.finish(job, {
          messages: 'websocket-execution-error.json',
          history: 'history-execution-error.json',
        }),
    });
    const { logger, output } = capturingLogger();
    const error = await rejectionOf(
      modelFor(server.baseUrl, { logger }).generate(modelCallOptions()),
      ProviderCallError,
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('node 3 (KSampler): torch.OutOfMemoryError');
    expect(toImagineError(error).code).toBe('generation_failed');
    expect(output()).toContain('"classType":"KSampler"');
    expect(requestsTo(server, 'GET', '/view')).toEqual([]);
  });

  it('a failure recorded in /history (found by polling) is a generation_failed naming the node', async () => {
    const server = await start({
      websocket: false,
      onQueued: (job, comfy) =>
        comfy.finish(job, {
          messages: 'websocket-execution-error.json',
          history: 'history-execution-error.json',
        }),
    });
    const error = await rejectionOf(modelFor(server.baseUrl).generate(modelCallOptions()), ProviderCallError);
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('node 3 (KSampler)');
  });

  it('malformed history is a generation_failed, and nothing is downloaded', async () => {
    const server = await start({
      onQueued: (job, comfy) => comfy.finish(job, { history: 'history-malformed.json' }),
    });
    const error = await rejectionOf(modelFor(server.baseUrl).generate(modelCallOptions()), ProviderCallError);
    expect(error.kind).toBe('malformed');
    expect(toImagineError(error).code).toBe('generation_failed');
    expect(requestsTo(server, 'GET', '/view')).toEqual([]);
  });

  it('a prompt that finished without images is a generation_failed', async () => {
    const server = await start({
      onQueued: (job, comfy) => comfy.finish(job, { history: 'history-no-images.json' }),
    });
    const error = await rejectionOf(modelFor(server.baseUrl).generate(modelCallOptions()), ProviderCallError);
    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('finished without images');
    expect(toImagineError(error).code).toBe('generation_failed');
  });

  it('follows the prompt a crashed process queued instead of queueing it again', async () => {
    const server = await start();
    // The stand-in's first job is the crashed process's; it has finished by the time we come back.
    await modelFor(server.baseUrl).generate(modelCallOptions());
    const resumed = await modelFor(server.baseUrl).generate(
      modelCallOptions({ resumeProviderRequestId: recordedPromptId }),
    );
    expect(resumed.response.providerRequestId).toBe(recordedPromptId);
    expect(requestsTo(server, 'POST', '/prompt')).toHaveLength(1);
  });
});

describe('probeComfyUI', () => {
  it('is ready with the version and GPU from /system_stats', async () => {
    const server = await start();
    const readiness = await probeComfyUI({ baseUrl: server.baseUrl });
    expect(readiness).toEqual({
      ready: true,
      detail: 'ComfyUI 0.3.68 on cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync, 22.4 GB VRAM free',
    });
    expect(requestsTo(server, 'GET', '/')).toHaveLength(1);
  });

  it('is not ready, and says why, when the server is down', async () => {
    const port = await freePort();
    const readiness = await probeComfyUI({ baseUrl: `http://127.0.0.1:${port}` });
    expect(readiness.ready).toBe(false);
    expect(readiness.detail).toContain('could not be reached');
  });
});
