/**
 * The REST API over the real Replicate and OpenAI clients, their HTTP stood in by recorded responses: the
 * same path a run with REPLICATE_API_TOKEN takes, and every way it can fail leaving quota and storage as
 * they were.
 */

/**
 * The REST API over the real Replicate and OpenAI clients, their HTTP stood in by recorded responses: the
 * same path a run with REPLICATE_API_TOKEN takes, and every way it can fail leaving quota and storage as
 * they were.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../core/generation/image-parameters.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { storedImageFiles } from '../../test-support/test-services.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as Record<string, unknown>;

const replicateApi = 'https://api.replicate.com';
const schnellPredictions = '/v1/models/black-forest-labs/flux-schnell/predictions';
const outputHost = 'https://replicate.delivery';
const outputPath = '/xezq/Zb4m1r7JtU0c2nq6Wm0l0A9vQeQz3JcY1F7dXo2kH5sqYoJA/out-0.png';
const openaiApi = 'https://api.openai.com';

const replicateOnly = { REPLICATE_API_TOKEN: 'r8_test_not_a_real_token' };
const bothProviders = {
  ...replicateOnly,
  OPENAI_API_KEY: 'sk-test-not-a-real-key',
  MODERATION: 'off',
  // Down providers give up quickly here; production waits up to a minute.
  PROVIDER_DEADLINE_MS: '800',
};

let fluxPng: Buffer;
beforeAll(async () => {
  fluxPng = await sharp({
    create: { width: 1024, height: 1024, channels: 3, background: { r: 20, g: 80, b: 140 } },
  })
    .png()
    .toBuffer();
});

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function generate(testApp: TestApp, authorization: string, body: object = {}) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: {
      prompt: 'Flutter logo in office of pakistan',
      size: '1024x1024',
      style: 'realistic',
      aspect_ratio: '1:1',
      enhance_prompt: true,
      ...body,
    },
    headers: { authorization },
  });
}

async function expectNothingCharged(testApp: TestApp, userId: string, limit: number) {
  expect(await testApp.services.ledger.usage(userId, limit)).toMatchObject({ used: 0, reserved: 0 });
  expect(storedImageFiles(testApp.services)).toEqual([]);
}

describe('Replicate through the REST API', () => {
  it('generates with the default model once a token is set, stores the image and keeps the prediction id', async () => {
    current = await createTestApp(replicateOnly);
    let sentBody: Record<string, unknown> = {};
    nock(replicateApi)
      .post(schnellPredictions, (body: Record<string, unknown>) => {
        sentBody = body;
        return true;
      })
      .matchHeader('authorization', 'Bearer r8_test_not_a_real_token')
      .matchHeader('prefer', /^wait=\d+$/)
      .reply(201, fixture('replicate-prediction-succeeded.json'));
    nock(outputHost).get(outputPath).reply(200, fluxPng, { 'content-type': 'image/png' });

    const response = await generate(current, await current.bearerFor('alice'));
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ success: true, model: 'flux-schnell', cost: 0.003, size: '1024x1024' });
    expect(sentBody.input).toMatchObject({ aspect_ratio: '1:1', num_outputs: 1, output_format: 'png' });
    expect(sentBody.input).not.toHaveProperty('disable_safety_checker');

    const image = await current.app.inject({ method: 'GET', url: new URL(body.image_url).pathname });
    expect(image.headers['content-type']).toBe('image/png');
    // Replicate's pixels, untouched, with what made them in a `parameters` chunk (PNG_METADATA).
    const [stored, sent] = await Promise.all([
      sharp(image.rawPayload).raw().toBuffer(),
      sharp(fluxPng).raw().toBuffer(),
    ]);
    expect(stored.equals(sent)).toBe(true);
    expect(readPngText(image.rawPayload).parameters).toMatch(/Model: flux-schnell$/);
    expect((await current.services.records.get('alice', body.id))?.providerRequestId).toBe(
      'rsq9k2x7hnrm80cmz1a8tq3p4w',
    );
    // The job knew the prediction while it ran, so a crash could have followed it instead of paying twice.
    const noted = sqliteOf(current.services)
      .prepare('SELECT COUNT(*) AS n FROM jobs WHERE provider_request_id = ?')
      .get('rsq9k2x7hnrm80cmz1a8tq3p4w') as { n: number };
    expect(noted.n).toBe(1);
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });

  it.each([
    [
      'a text file named .png',
      () => nock(outputHost).get(outputPath).reply(200, 'not an image', { 'content-type': 'image/png' }),
    ],
    [
      'a 30 MB image',
      () =>
        nock(outputHost)
          .get(outputPath)
          .reply(200, Buffer.alloc(30 * 1024 * 1024), {
            'content-type': 'image/png',
            'content-length': String(30 * 1024 * 1024),
          }),
    ],
    [
      'a redirect to a foreign host',
      () =>
        nock(outputHost).get(outputPath).reply(302, '', { location: 'https://attacker.example/out-0.png' }),
    ],
  ])('refuses %s with 502, charging and storing nothing', async (_case, arrangeDownload) => {
    current = await createTestApp(replicateOnly);
    nock(replicateApi).post(schnellPredictions).reply(201, fixture('replicate-prediction-succeeded.json'));
    arrangeDownload();
    const response = await generate(current, await current.bearerFor('alice'));
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({
      error: 'generation_failed',
      message: 'The image could not be generated',
    });
    await expectNothingCharged(current, 'alice', 5);
  });
});

/**
 * A provider that is down: it answers the first attempt (required) and however many retries fit in the
 * short deadline (optional, since how many depends on the jittered backoff).
 */
function providerDown(host: string, route: string, status: number, fixtureName: string) {
  nock(host).post(route).reply(status, fixture(fixtureName));
  nock(host).post(route).times(10).optionally().reply(status, fixture(fixtureName));
}

const replicateDown = () => providerDown(replicateApi, schnellPredictions, 503, 'replicate-error-503.json');
const openaiDown = () => providerDown(openaiApi, '/v1/images/generations', 500, 'openai-error-500.json');

describe('fallback between providers', () => {
  it('serves from OpenAI when Replicate is down, and says so', async () => {
    current = await createTestApp({ ...bothProviders, IMAGE_FALLBACK_MODELS: 'dall-e-3' });
    replicateDown();
    nock(openaiApi).post('/v1/images/generations').reply(200, fixture('openai-dall-e-3-generation.json'));

    const response = await generate(current, await current.bearerFor('boss', 'enterprise'));
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ model: 'dall-e-3', revised_prompt: expect.any(String) });
    expect(await current.services.ledger.usage('boss', 2000)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('and back: serves from Replicate when OpenAI is down', async () => {
    current = await createTestApp({
      ...bothProviders,
      IMAGE_MODEL: 'dall-e-3',
      IMAGE_FALLBACK_MODELS: 'flux-schnell',
    });
    openaiDown();
    nock(replicateApi).post(schnellPredictions).reply(201, fixture('replicate-prediction-succeeded.json'));
    nock(outputHost).get(outputPath).reply(200, fluxPng, { 'content-type': 'image/png' });

    const response = await generate(current, await current.bearerFor('boss', 'enterprise'));
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ model: 'flux-schnell', cost: 0.003 });
  });

  it('answers 503 with nothing charged when both are down', async () => {
    current = await createTestApp({ ...bothProviders, IMAGE_FALLBACK_MODELS: 'dall-e-3' });
    replicateDown();
    nock(openaiApi).post('/v1/images/generations').reply(500, fixture('openai-error-500.json'));
    nock(openaiApi)
      .post('/v1/images/generations')
      .times(10)
      .optionally()
      .reply(500, fixture('openai-error-500.json'));

    const response = await generate(current, await current.bearerFor('boss', 'enterprise'));
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: 'provider_unavailable' });
    expect(response.body).not.toMatch(/Replicate|server had an error/);
    await expectNothingCharged(current, 'boss', 2000);
  });
});

describe('a Replicate job after a crash', () => {
  it('follows the prediction the crashed process started, instead of paying for a new one', async () => {
    current = await createTestApp(replicateOnly);
    const { services } = current;
    const authorization = await current.bearerFor('alice');
    // What a process killed mid-generation leaves: a polled job, its quota hold, and its prediction's id.
    const jobId = await leaveCrashedJob(services, {
      userId: 'alice',
      source: 'api',
      delivery: 'rest-async',
      request: { prompt: 'a lighthouse', size: '1024x1024', enhance_prompt: false },
      providerRequestId: 'rsq9k2x7hnrm80cmz1a8tq3p4w',
      hold: { userLimit: 5, estimatedUsd: 0.003 },
    });
    nock(replicateApi)
      .get('/v1/predictions/rsq9k2x7hnrm80cmz1a8tq3p4w')
      .reply(200, fixture('replicate-prediction-succeeded.json'));
    nock(outputHost).get(outputPath).reply(200, fluxPng, { 'content-type': 'image/png' });

    expect(await services.jobs.recover()).toBe(1);
    let job: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 100 && job.status !== 'succeeded' && job.status !== 'failed'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = (
        await current.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: { authorization } })
      ).json();
    }
    expect(job).toMatchObject({ status: 'succeeded', result: { model: 'flux-schnell', size: '1024x1024' } });
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
    expect(storedImageFiles(services)).toHaveLength(1);
  });
});

describe('OpenAI through the REST API', () => {
  it('reports the size OpenAI rendered, with a warning that the asked-for size was mapped', async () => {
    current = await createTestApp({
      OPENAI_API_KEY: 'sk-test-not-a-real-key',
      MODERATION: 'off',
      IMAGE_MODEL: 'dall-e-3',
    });
    const rendered = await sharp({
      create: { width: 1792, height: 1024, channels: 3, background: '#335577' },
    })
      .png()
      .toBuffer();
    const recorded = fixture('openai-dall-e-3-generation.json') as { data: Array<Record<string, unknown>> };
    let sentSize: unknown;
    nock(openaiApi)
      .post('/v1/images/generations', (body: Record<string, unknown>) => {
        sentSize = body.size;
        return true;
      })
      .reply(200, { ...recorded, data: [{ ...recorded.data[0], b64_json: rendered.toString('base64') }] });

    const response = await generate(current, await current.bearerFor('boss', 'enterprise'), {
      size: '1344x768',
      aspect_ratio: undefined,
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(sentSize).toBe('1792x1024');
    expect(body).toMatchObject({ model: 'dall-e-3', size: '1792x1024', cost: 0.12 });
    expect(body.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'mapped', feature: 'size' })]),
    );
    const stored = await current.app.inject({ method: 'GET', url: new URL(body.image_url).pathname });
    const metadata = await sharp(stored.rawPayload).metadata();
    expect([metadata.width, metadata.height]).toEqual([1792, 1024]);
  });
});

describe('OpenAI moderation through the REST API', () => {
  it('refuses a flagged prompt with 422 before any provider is called, charging nothing', async () => {
    current = await createTestApp({ ...replicateOnly, OPENAI_API_KEY: 'sk-test-not-a-real-key' });
    nock(openaiApi).post('/v1/moderations').reply(200, fixture('openai-moderation-flagged.json'));
    const response = await generate(current, await current.bearerFor('alice'), { prompt: 'a violent scene' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: 'content_policy_violation' });
    await expectNothingCharged(current, 'alice', 5);
  });
});

/** One multipart part as the edit endpoint receives it; `body` keeps the bytes (latin1 is lossless). */
interface Part {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

function multipartParts(raw: Buffer, contentType: string): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const separator = `--${boundary?.[1] ?? boundary?.[2]}`;
  return raw
    .toString('latin1')
    .split(separator)
    .slice(1, -1)
    .map((chunk) => {
      const [head = '', ...rest] = chunk.replace(/^\r\n/, '').split('\r\n\r\n');
      return {
        name: /name="([^"]*)"/.exec(head)?.[1] ?? '',
        filename: /filename="([^"]*)"/.exec(head)?.[1],
        contentType: /content-type: ([^\r\n]+)/i.exec(head)?.[1],
        body: Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1'),
      };
    });
}

/** Answers one `images.edit` with the recorded gpt-image-1 edit, keeping the parts sent. */
function captureOpenAIEdit(): { parts: Part[] } {
  const seen: { parts: Part[] } = { parts: [] };
  nock(openaiApi)
    .post('/v1/images/edits')
    .matchHeader('authorization', 'Bearer sk-test-not-a-real-key')
    .reply(function reply(_uri, body) {
      const raw = typeof body === 'string' ? Buffer.from(body, 'hex') : Buffer.alloc(0);
      seen.parts = multipartParts(raw, String(this.req.headers['content-type']));
      return [200, fixture('openai-gpt-image-1-edit.json')];
    });
  return seen;
}

describe('an image sent to an OpenAI model that only edits', () => {
  const openaiOnly = { OPENAI_API_KEY: 'sk-test-not-a-real-key', MODERATION: 'off' };

  async function catPng(): Promise<Buffer> {
    return sharp({ create: { width: 96, height: 64, channels: 3, background: '#7a5230' } })
      .png()
      .toBuffer();
  }

  it.each([
    ['named', { IMAGE_MODEL: 'dall-e-3' }, { model: 'gpt-image-1' }],
    ['routed to as the default', { IMAGE_MODEL: 'gpt-image-1' }, {}],
  ])(
    'is carried out as an edit when %s: the image goes to images.edit with the prompt as the instruction',
    async (_case, environment, named) => {
      current = await createTestApp({ ...openaiOnly, ...environment });
      const cat = await catPng();
      const sent = captureOpenAIEdit();

      const response = await generate(current, await current.bearerFor('boss', 'enterprise'), {
        prompt: 'put a red scarf on the cat',
        style: undefined,
        enhance_prompt: false,
        image: cat.toString('base64'),
        ...named,
      });

      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({ model: 'gpt-image-1', kind: 'image_to_image' });
      const images = sent.parts.filter((part) => part.name === 'image[]');
      expect(images.map(({ filename, contentType }) => ({ filename, contentType }))).toEqual([
        { filename: 'image-1.png', contentType: 'image/png' },
      ]);
      expect(images[0]?.body.equals(cat)).toBe(true);
      const fields = Object.fromEntries(
        sent.parts
          .filter((part) => part.filename === undefined)
          .map((part) => [part.name, part.body.toString('utf8')]),
      );
      expect(fields).toMatchObject({ model: 'gpt-image-1', prompt: 'put a red scarf on the cat', n: '1' });
      expect(body.warnings).not.toContainEqual(expect.objectContaining({ feature: 'strength' }));
      expect(await current.services.ledger.usage('boss', 2000)).toMatchObject({ used: 1, reserved: 0 });
    },
  );

  it('says that a strength was not used by an edit', async () => {
    current = await createTestApp({ ...openaiOnly, IMAGE_MODEL: 'gpt-image-1' });
    captureOpenAIEdit();
    const response = await generate(current, await current.bearerFor('boss', 'enterprise'), {
      image: (await catPng()).toString('base64'),
      strength: 0.3,
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().warnings).toContainEqual(
      expect.objectContaining({ type: 'unsupported', feature: 'strength' }),
    );
  });

  it('stays a 422 unsupported_by_model for a model that can neither redraw nor edit, naming one that can', async () => {
    current = await createTestApp({ ...openaiOnly, IMAGE_MODEL: 'dall-e-3' });
    const response = await generate(current, await current.bearerFor('boss', 'enterprise'), {
      model: 'dall-e-3',
      image: (await catPng()).toString('base64'),
    });
    expect(response.statusCode).toBe(422);
    const body = response.json();
    expect(body).toMatchObject({
      error: 'unsupported_by_model',
      model: 'dall-e-3',
      feature: 'image_to_image',
    });
    expect(body.models).toContain('gpt-image-1');
    await expectNothingCharged(current, 'boss', 2000);
  });
});
