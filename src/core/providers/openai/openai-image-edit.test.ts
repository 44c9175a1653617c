import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { modelCallOptions } from '../../../test-support/model-call-options.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import type { ImageModelCallOptions, InputImage } from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError } from '../provider-error.ts';
import { createOpenAIImageModel } from './openai-image-model.ts';
import { openaiProvider } from './openai-provider.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const openAIHost = 'https://api.openai.com';
const fastRetries = { deadlineMs: 5_000, attemptTimeoutMs: 2_000, initialDelayMs: 1, maxRetries: 2 };

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as Record<string, unknown>;
}

function descriptor(id: 'dall-e-3' | 'gpt-image-1'): ModelDescriptor {
  const found = openaiProvider.builtInModels?.find((model) => model.id === id);
  if (!found) throw new Error(`${id} is missing from the catalog`);
  return found;
}

function openAIModel(id: 'dall-e-3' | 'gpt-image-1') {
  return createOpenAIImageModel({
    apiKey: 'sk-test-key',
    baseUrl: undefined,
    descriptor: descriptor(id),
    retryPolicy: fastRetries,
    now: () => new Date('2025-03-01T12:00:00.000Z'),
  });
}

/** Distinct bytes per image, so the multipart body shows which image went where. */
function reference(marker: string, mediaType: InputImage['mediaType'] = 'image/png'): InputImage {
  return { bytes: Buffer.from(`\u0089PNG-${marker}-bytes`, 'latin1'), mediaType, width: 1024, height: 1024 };
}

function editCall(overrides: Partial<ImageModelCallOptions> = {}): ImageModelCallOptions {
  return modelCallOptions({ task: 'edit', prompt: 'put a red scarf on the cat', ...overrides });
}

/** One multipart part: its headers and its body, as the edit endpoint receives them. */
interface Part {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  body: string;
}

function parseMultipart(raw: string, contentType: string): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const separator = `--${boundary?.[1] ?? boundary?.[2]}`;
  return raw
    .split(separator)
    .slice(1, -1)
    .map((chunk) => {
      const [head = '', ...rest] = chunk.replace(/^\r\n/, '').split('\r\n\r\n');
      const body = rest.join('\r\n\r\n').replace(/\r\n$/, '');
      return {
        name: /name="([^"]*)"/.exec(head)?.[1] ?? '',
        filename: /filename="([^"]*)"/.exec(head)?.[1],
        contentType: /content-type: ([^\r\n]+)/i.exec(head)?.[1],
        body,
      };
    });
}

/** Answers one edit with `status` and `answer`, keeping the parts sent. */
function captureEdit(status: number, answer: unknown): { parts: Part[] } {
  const seen: { parts: Part[] } = { parts: [] };
  nock(openAIHost)
    .post('/v1/images/edits')
    .matchHeader('authorization', 'Bearer sk-test-key')
    .reply(function reply(_uri, body) {
      const raw = typeof body === 'string' ? Buffer.from(body, 'hex').toString('latin1') : '';
      seen.parts = parseMultipart(raw, String(this.req.headers['content-type']));
      return [status, answer];
    });
  return seen;
}

const providerFailure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

describe('OpenAI image edits: gpt-image-1', () => {
  it('declares edits for gpt-image-1 and text only for dall-e-3', () => {
    expect(descriptor('gpt-image-1').capabilities).toEqual(['text_to_image', 'edit']);
    expect(descriptor('dall-e-3').capabilities).toEqual(['text_to_image']);
  });

  it('sends every reference image as image[], in order, with the instruction and the mapped size', async () => {
    const sent = captureEdit(200, fixture('gpt-image-1-edit.json'));

    const result = await openAIModel('gpt-image-1').generate(
      editCall({
        inputImages: [reference('cat'), reference('scarf', 'image/jpeg')],
        size: { width: 1000, height: 1000 },
      }),
    );

    expect(sent.parts.map(({ name, filename, contentType }) => ({ name, filename, contentType }))).toEqual(
      expect.arrayContaining([
        { name: 'image[]', filename: 'image-1.png', contentType: 'image/png' },
        { name: 'image[]', filename: 'image-2.jpg', contentType: 'image/jpeg' },
      ]),
    );
    const images = sent.parts.filter((part) => part.name === 'image[]');
    expect(images.map((part) => part.body)).toEqual(['\u0089PNG-cat-bytes', '\u0089PNG-scarf-bytes']);
    const fields = Object.fromEntries(
      sent.parts.filter((part) => part.filename === undefined).map((part) => [part.name, part.body]),
    );
    expect(fields).toEqual({
      model: 'gpt-image-1',
      prompt: 'put a red scarf on the cat',
      n: '1',
      size: '1024x1024',
      quality: 'medium',
      output_format: 'png',
    });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.mediaType).toBe('image/png');
    expect(result.warnings).toEqual([{ type: 'mapped', feature: 'size', detail: '1000x1000 → 1024x1024' }]);
    expect(result.usage.costUsd).toBeCloseTo(0.042, 10);
  });

  it('sends at most 16 reference images and says so', async () => {
    const sent = captureEdit(200, fixture('gpt-image-1-edit.json'));
    const many = Array.from({ length: 18 }, (_, index) => reference(`r${index}`));

    const result = await openAIModel('gpt-image-1').generate(editCall({ inputImages: many }));

    expect(sent.parts.filter((part) => part.name === 'image[]')).toHaveLength(16);
    expect(result.warnings).toContainEqual({
      type: 'unsupported',
      feature: 'input_images',
      detail: 'gpt-image-1 edits with at most 16 images; 2 more were not sent.',
    });
  });

  it('draws from text through images.generate, never the edit endpoint', async () => {
    nock(openAIHost).post('/v1/images/generations').reply(200, fixture('gpt-image-1-generation.json'));

    const result = await openAIModel('gpt-image-1').generate(modelCallOptions({ n: 2 }));

    expect(result.images).toHaveLength(2);
  });

  it.each([
    ['dall-e-3', 'edit'],
    ['gpt-image-1', 'image_to_image'],
    ['gpt-image-1', 'upscale'],
  ] as const)('refuses %s for %s without a request', async (id, task) => {
    const error = await providerFailure(
      openAIModel(id).generate(
        editCall({ task, inputImages: [reference('cat')], strength: 0.5, upscaleFactor: 2 }),
      ),
    );

    expect(error.kind).toBe('rejected');
    expect(error.message).toContain(`cannot do ${task}`);
  });

  it('refuses an edit without a reference image', async () => {
    const error = await providerFailure(openAIModel('gpt-image-1').generate(editCall()));

    expect(error).toMatchObject({
      kind: 'rejected',
      message: 'edit needs at least one reference image, and the call has none',
    });
  });

  it('reports an image OpenAI cannot read as rejected, without trying again', async () => {
    captureEdit(400, fixture('error-400-invalid-image.json'));

    const error = await providerFailure(
      openAIModel('gpt-image-1').generate(editCall({ inputImages: [reference('x')] })),
    );

    expect(error).toMatchObject({ kind: 'rejected', status: 400 });
  });

  it("reports the safety system's refusal of an edit as a safety failure", async () => {
    captureEdit(400, fixture('error-400-moderation-blocked.json'));

    const error = await providerFailure(
      openAIModel('gpt-image-1').generate(editCall({ inputImages: [reference('x')] })),
    );

    expect(error.kind).toBe('safety');
  });
});
