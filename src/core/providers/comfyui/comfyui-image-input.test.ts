import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ComfyUIStandIn,
  type ComfyUIStandInOptions,
  startComfyUIStandIn,
} from '../../../test-support/comfyui-stand-in.ts';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import type { ImageModelCallOptions, InputImage } from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError } from '../provider-error.ts';
import {
  type ComfyUIImageModelSettings,
  comfyuiWorkflowCapabilities,
  createComfyUIImageModel,
} from './comfyui-image-model.ts';
import type { ComfyUIEntryFields } from './comfyui-options.ts';
import { comfyuiProvider } from './comfyui-provider.ts';
import { loadComfyUIWorkflow } from './comfyui-workflow.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../../../..');
const imageToImage = loadComfyUIWorkflow('workflows/sdxl-image-to-image.json', {
  relativeTo: repositoryRoot,
});
const textToImage = loadComfyUIWorkflow('workflows/sdxl-text-to-image.json', { relativeTo: repositoryRoot });

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
    modelId: 'sdxl-img2img',
    baseUrl,
    workflow: imageToImage,
    maxImagesPerCall: 4,
    timeoutMs: 15_000,
    pollIntervalMs: 10,
    retryPolicy: { maxRetries: 0 },
    ...overrides,
  });
}

let init: InputImage;
beforeAll(async () => {
  const bytes = await sharp({ create: { width: 768, height: 512, channels: 3, background: '#c63' } })
    .jpeg()
    .toBuffer();
  init = { bytes, mediaType: 'image/jpeg', width: 768, height: 512 };
});

function img2img(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({
    task: 'image_to_image',
    prompt: 'the same street at night',
    seed: 5,
    inputImages: [init],
    strength: 0.35,
    ...overrides,
  });
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

/** A models-file entry for the ComfyUI provider, as the loader hands it over. */
function entry(workflow: string): ModelDescriptor<ComfyUIEntryFields> {
  return {
    id: 'x',
    provider: 'comfyui',
    providerModel: undefined,
    premium: false,
    description: 'x',
    maxImagesPerCall: 1,
    fixedSizes: undefined,
    priceUsd: () => 0,
    capabilities: [],
    baseUrl: 'http://127.0.0.1:8188',
    plans: undefined,
    concurrency: undefined,
    timeoutMs: undefined,
    apiKeyEnv: undefined,
    options: { workflow },
    source: 'models file',
    definedIn: path.join(repositoryRoot, 'models.yaml'),
  };
}

describe('ComfyUI image input', () => {
  it('makes an entry whose workflow has {{image}} an image-to-image model, and any other text-only', () => {
    expect(comfyuiWorkflowCapabilities(imageToImage)).toEqual(['image_to_image']);
    expect(comfyuiWorkflowCapabilities(textToImage)).toEqual(['text_to_image']);
    expect(comfyuiProvider.capabilitiesOf?.(entry('workflows/sdxl-image-to-image.json'))).toEqual([
      'image_to_image',
    ]);
    expect(comfyuiProvider.capabilitiesOf?.(entry('workflows/flux-text-to-image.json'))).toEqual([
      'text_to_image',
    ]);
  });

  it('uploads the init image, then queues the workflow loading it by the name ComfyUI gave', async () => {
    const server = await start();

    const result = await modelFor(server.baseUrl, { apiKey: 'proxy-key' }).generate(img2img());

    expect(server.uploads).toHaveLength(1);
    const [upload] = server.uploads;
    expect(upload?.bytes.equals(Buffer.from(init.bytes))).toBe(true);
    expect(upload).toMatchObject({ type: 'input', subfolder: '', contentType: 'image/jpeg' });
    expect(upload?.filename).toMatch(/^imagine-[0-9a-f-]{36}\.jpg$/);
    const [request] = server.requests.filter((r) => r.path === '/upload/image');
    expect(request?.headers.authorization).toBe('Bearer proxy-key');
    // The upload comes before the prompt that needs it.
    const order = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(order.indexOf('POST /upload/image')).toBeLessThan(order.indexOf('POST /prompt'));

    const graph = server.jobs[0]?.graph ?? {};
    expect(graph['10']?.inputs.image).toBe(upload?.name);
    expect(graph['3']?.inputs).toMatchObject({ denoise: 0.35, seed: 5 });
    expect(graph['6']?.inputs.text).toBe('the same street at night');
    expect(result.images).toHaveLength(1);
    // Rendered at the init image's size, which is no size to warn about.
    expect(result.images[0]?.dimensions).toEqual({ width: 768, height: 512 });
    expect(result.warnings).toEqual([]);
  });

  it.each([
    [{ name: 'imagine-upload (1).jpg', subfolder: '', type: 'input' }, 'imagine-upload (1).jpg'],
    [{ name: 'imagine-upload.jpg', subfolder: 'imagine', type: 'input' }, 'imagine/imagine-upload.jpg'],
  ])('loads the file by the name ComfyUI answered (%o)', async (answer, loaded) => {
    // ComfyUI renames a file whose name is taken, and answers with the name it stored.
    const server = await start({ uploadReply: { status: 200, body: answer } });

    await modelFor(server.baseUrl).generate(img2img());

    expect(server.jobs[0]?.graph['10']?.inputs.image).toBe(loaded);
  });

  it('renders a batch from one upload', async () => {
    const server = await start();

    const result = await modelFor(server.baseUrl).generate(img2img({ n: 3 }));

    expect(server.uploads).toHaveLength(1);
    expect(server.jobs[0]?.graph['12']?.inputs.amount).toBe(3);
    expect(result.images).toHaveLength(3);
  });

  it('refuses a text-to-image call to an image workflow, and an image call to a text workflow, sending nothing', async () => {
    const server = await start();

    const noImage = await failure(modelFor(server.baseUrl).generate(modelCallOptions()));
    const textOnly = await failure(modelFor(server.baseUrl, { workflow: textToImage }).generate(img2img()));

    expect(noImage).toMatchObject({ kind: 'rejected' });
    expect(noImage.message).toContain('cannot do text_to_image');
    expect(textOnly.message).toContain('cannot do image_to_image');
    expect(server.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('refuses an image-to-image call without its image, sending nothing', async () => {
    const server = await start();

    const error = await failure(modelFor(server.baseUrl).generate(img2img({ inputImages: [] })));

    expect(error).toMatchObject({
      kind: 'rejected',
      message: 'image_to_image needs an input image, and the call has none',
    });
    expect(server.requests).toEqual([]);
  });

  it("reports ComfyUI's refusal of the upload as rejected, queueing nothing", async () => {
    const server = await start({ uploadReply: { status: 400 } });

    const error = await failure(modelFor(server.baseUrl).generate(img2img()));

    expect(error).toMatchObject({ kind: 'rejected', status: 400 });
    expect(server.jobs).toEqual([]);
  });

  it('reports an init image LoadImage cannot read as rejected, naming the node', async () => {
    const server = await start({
      onQueued: (job, self) =>
        self.finish(job, {
          messages: 'websocket-execution-error-load-image.json',
          history: 'history-execution-error-load-image.json',
        }),
    });

    const error = await failure(modelFor(server.baseUrl).generate(img2img()));

    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/LoadImage/);
    expect(error.message).toMatch(/cannot identify image file/);
  });

  it('warns that a workflow without {{denoise}} used its own strength', async () => {
    const server = await start();
    const fixed = {
      ...imageToImage,
      placeholders: new Set([...imageToImage.placeholders].filter((name) => name !== 'denoise')),
      graph: {
        ...imageToImage.graph,
        '3': {
          ...(imageToImage.graph['3'] as NonNullable<(typeof imageToImage.graph)['3']>),
          inputs: { ...imageToImage.graph['3']?.inputs, denoise: 0.6 },
        },
      },
    };

    const result = await modelFor(server.baseUrl, { workflow: fixed }).generate(img2img());

    expect(server.jobs[0]?.graph['3']?.inputs.denoise).toBe(0.6);
    expect(result.warnings).toEqual([
      {
        type: 'unsupported',
        feature: 'strength',
        detail: 'this ComfyUI workflow has no {{strength}} or {{denoise}}; its own denoise was used',
      },
    ]);
  });
});
