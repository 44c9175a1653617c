/**
 * Images in, over REST: an init image on the generate routes (base64, data: URL, an allowed https URL),
 * variations, remixes and upscales of stored images, the lineage they record, and every way an input
 * image is refused (a 422 on `image`, nothing charged or stored). The models are stand-ins that assert what
 * they receive; the upscaler really resizes, so the size a caller sees is the one stored.
 */

import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import nock from 'nock';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { readPngText } from '../../core/generation/image-parameters.ts';
import type { ImageModelCallOptions } from '../../core/providers/image-model.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { imageInputProvider, imageInputStandIns } from '../../test-support/image-input-stand-ins.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { storedImageFiles } from '../../test-support/test-services.ts';

const allowedHost = 'images.example.com';

async function solidPng(width: number, height: number, color = '#2a6f97'): Promise<Uint8Array> {
  const image = sharp({ create: { width, height, channels: 3, background: color } });
  return new Uint8Array(await image.png().toBuffer());
}

/** Noise compresses badly: a PNG well over BODY_LIMIT_BYTES (64 KB) once base64-encoded. */
async function noisyPng(width: number, height: number): Promise<Uint8Array> {
  const pixels = Buffer.alloc(width * height * 3);
  let state = 2463534242;
  for (let index = 0; index < pixels.length; index++) {
    // xorshift32: deterministic noise
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    pixels[index] = state & 0xff;
  }
  return new Uint8Array(
    await sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(environment: Record<string, string> = {}) {
  const models = imageInputStandIns();
  current = await createTestApp(
    {
      IMAGE_MODEL: 'texter',
      IMAGE_TO_IMAGE_MODEL: 'remixer',
      UPSCALE_MODEL: 'upscaler',
      INPUT_IMAGE_HOSTS: allowedHost,
      MAX_INPUT_IMAGE_BYTES: String(400 * 1024),
      ...environment,
    },
    { providers: [imageInputProvider], models: Object.values(models) },
  );
  return { testApp: current, ...models };
}

function post(testApp: TestApp, url: string, body: unknown, authorization: string) {
  return testApp.app.inject({ method: 'POST', url, payload: body as object, headers: { authorization } });
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** Nothing charged, held, recorded or stored for this user (beyond what they had; `files` counts everyone's). */
async function expectNothingKept(testApp: TestApp, userId: string, imagesBefore = 0, files = imagesBefore) {
  expect(await testApp.services.ledger.usage(userId, 5)).toMatchObject({ used: imagesBefore, reserved: 0 });
  const records = (await testApp.services.records.listForUser(userId, { limit: 10, cursor: undefined }))
    .records;
  expect(records).toHaveLength(imagesBefore);
  expect(storedImageFiles(testApp.services)).toHaveLength(files);
}

/** A text-to-image of alice's, 320x256, to derive from. */
async function sourceImage(testApp: TestApp, authorization: string) {
  const response = await post(
    testApp,
    '/api/v1/generate/image',
    { prompt: 'a red fox in snow', size: '320x256', seed: 7 },
    authorization,
  );
  expect(response.statusCode).toBe(201);
  return response.json() as { id: string; image_url: string };
}

async function storedBytes(testApp: TestApp, userId: string, id: string): Promise<Uint8Array> {
  const record = await testApp.services.records.get(userId, id);
  if (!record) throw new Error(`no record ${id}`);
  return testApp.services.storage.read(record.storageKey);
}

describe('POST /api/v1/generate/image with an image', () => {
  it('sends a base64 PNG larger than BODY_LIMIT_BYTES to the image-to-image model at the default strength', async () => {
    const { testApp, remixer, texter } = await start();
    const init = await noisyPng(256, 256);
    expect(base64(init).length).toBeGreaterThan(65_536);
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'the same, in watercolour', size: '512x512', image: base64(init) },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ model: 'remixer', size: '512x512', kind: 'image_to_image', cost: 0.02 });
    expect(body.parent_id).toBeUndefined();
    expect(texter.calls).toHaveLength(0);
    const call = remixer.calls[0] as ImageModelCallOptions;
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.65, upscaleFactor: undefined });
    expect(call.inputImages).toHaveLength(1);
    expect(call.inputImages?.[0]).toMatchObject({ mediaType: 'image/png', width: 256, height: 256 });
    expect(Buffer.from(call.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(init))).toBe(true);
    // The stored file says how it was made, in the AUTOMATIC1111 format.
    const stored = await storedBytes(testApp, 'alice', body.id);
    expect(readPngText(stored).parameters).toMatch(
      /^the same, in watercolour.*\nSeed: \d+, Size: 512x512, Model: remixer, Denoising strength: 0\.65$/s,
    );
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('takes a data: URL JPEG and a strength, in a batch too', async () => {
    const { testApp, remixer } = await start();
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#884422' } })
      .jpeg()
      .toBuffer();
    const response = await post(
      testApp,
      '/api/v1/generate/image/batch',
      {
        prompt: 'a barn',
        num_images: 2,
        size: '256x256',
        image: `data:image/jpeg;base64,${base64(jpeg)}`,
        strength: 0.3,
      },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.count).toBe(2);
    expect(body.images.map((image: { kind: string }) => image.kind)).toEqual([
      'image_to_image',
      'image_to_image',
    ]);
    expect(remixer.calls.map((call) => [call.task, call.strength, call.inputImages?.[0]?.mediaType])).toEqual(
      [
        ['image_to_image', 0.3, 'image/jpeg'],
        ['image_to_image', 0.3, 'image/jpeg'],
      ],
    );
  });

  it('fetches an https URL on an allowed host through the safe download', async () => {
    const { testApp, remixer } = await start();
    const init = await solidPng(320, 240, '#aa3355');
    nock(`https://${allowedHost}`).get('/uploads/cat.png').reply(200, Buffer.from(init), {
      'content-type': 'image/png',
    });
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a cat', size: '256x256', image: `https://${allowedHost}/uploads/cat.png` },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(201);
    expect(remixer.calls[0]?.inputImages?.[0]).toMatchObject({ width: 320, height: 240 });
    expect(Buffer.from(remixer.calls[0]?.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(init))).toBe(true);
  });

  it('refuses a named model that cannot take an image, naming the models that can', async () => {
    const { testApp, texter, remixer } = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a cat', model: 'texter', image: base64(await solidPng(64, 64)) },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      error: 'unsupported_by_model',
      model: 'texter',
      feature: 'image_to_image',
      models: ['remixer'],
    });
    // Refused before the image is fetched: no interceptor is set, and the network guard fails any request.
    const byUrl = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a cat', model: 'texter', image: `https://${allowedHost}/never-fetched.png` },
      await testApp.bearerFor('alice'),
    );
    expect(byUrl.json()).toMatchObject({ error: 'unsupported_by_model', model: 'texter' });
    expect(texter.calls).toHaveLength(0);
    expect(remixer.calls).toHaveLength(0);
    await expectNothingKept(testApp, 'alice');
  });

  it('refuses a strength without an image', async () => {
    const { testApp } = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a cat', strength: 0.5 },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(422);
    expect(response.json().details).toEqual([{ field: 'strength', message: 'strength needs an image' }]);
  });

  it('stores the model bytes untouched with PNG_METADATA=off', async () => {
    const { testApp } = await start({ PNG_METADATA: 'off' });
    const body = await sourceImage(testApp, await testApp.bearerFor('alice'));
    const stored = await storedBytes(testApp, 'alice', body.id);
    expect(Buffer.from(stored).equals(Buffer.from(await solidPng(320, 256)))).toBe(true);
    expect(readPngText(stored)).toEqual({});
  });
});

/** A PNG whose header claims `width`×`height` (CRC fixed), with one pixel of data: a decompression bomb. */
async function pngClaiming(width: number, height: number): Promise<Uint8Array> {
  const png = Buffer.from(await solidPng(1, 1));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return new Uint8Array(png);
}

describe('a refused input image', () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['text, not an image', async () => base64(Buffer.from('hello, world')), /not a PNG, JPEG or WebP/],
    ['not base64 at all', async () => 'this is not an image!', /https URL, a data: URL or base64/],
    ['an SVG data: URL', async () => `data:image/svg+xml;base64,${base64(Buffer.from(svg))}`, /SVG/],
    ['SVG bytes', async () => base64(Buffer.from(svg)), /SVG/],
    [
      'an animated WebP',
      async () => {
        const frames = [await solidPng(8, 8, '#ff0000'), await solidPng(8, 8, '#0000ff')];
        return base64(
          await sharp(frames, { join: { animated: true } })
            .webp()
            .toBuffer(),
        );
      },
      /animated/,
    ],
    ['a decompression bomb', async () => base64(await pngClaiming(60_000, 60_000)), /60000x60000.*4096/],
    ['over 4096 px a side', async () => base64(await solidPng(4100, 8)), /4100x8.*4096/],
    [
      'a truncated PNG',
      async () => {
        const png = await noisyPng(64, 64);
        return base64(png.subarray(0, Math.floor(png.byteLength / 2)));
      },
      /damaged PNG/,
    ],
    ['over MAX_INPUT_IMAGE_BYTES', async () => base64(await noisyPng(380, 380)), /larger than 409600 bytes/],
    ['an http URL', async () => `http://${allowedHost}/cat.png`, /must be https/],
    ['a foreign host', async () => 'https://elsewhere.example.net/cat.png', /host is not allowed: elsewhere/],
    [
      'a redirect to a foreign host',
      async () => {
        nock(`https://${allowedHost}`)
          .get('/moved.png')
          .reply(302, '', { location: 'https://elsewhere.example.net/cat.png' });
        return `https://${allowedHost}/moved.png`;
      },
      /host is not allowed: elsewhere/,
    ],
    [
      'a URL that is not an image',
      async () => {
        nock(`https://${allowedHost}`).get('/page.html').reply(200, '<html></html>');
        return `https://${allowedHost}/page.html`;
      },
      /not a PNG, JPEG or WebP/,
    ],
  ];

  it.each(cases)('%s is a 422 on image, nothing charged or stored', async (_name, image, message) => {
    const { testApp, remixer } = await start();
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a cat', image: await image() },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(422);
    const body = response.json();
    expect(body.error).toBe('validation_error');
    expect(body.details).toHaveLength(1);
    expect(body.details[0].field).toBe('image');
    expect(body.details[0].message).toMatch(message);
    expect(remixer.calls).toHaveLength(0);
    await expectNothingKept(testApp, 'alice');
  });

  it('any bytes as image give a generation or a 422, never a 5xx', { timeout: 120_000 }, async () => {
    const { testApp } = await start();
    const authorization = await testApp.bearerFor('alice', 'enterprise');
    const valid = Buffer.from(await solidPng(16, 16));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      // The PNG signature and header, then anything: the cases a magic-number check lets through.
      fc.uint8Array({ maxLength: 256 }).map((tail) => Buffer.concat([valid.subarray(0, 33), tail])),
      fc.nat({ max: valid.byteLength }).map((cut) => valid.subarray(0, cut)),
      fc.tuple(fc.nat({ max: valid.byteLength - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
        const copy = Buffer.from(valid);
        copy[at] = value;
        return copy;
      }),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (image) => {
        const response = await post(
          testApp,
          '/api/v1/generate/image',
          { prompt: 'a cat', size: '256x256', image: base64(image) },
          authorization,
        );
        expect([201, 422]).toContain(response.statusCode);
        if (response.statusCode === 422) expect(response.json().error).toBe('validation_error');
      }),
      { numRuns: 60 },
    );
  });
});

describe('POST /api/v1/images/{id}/variations', () => {
  it('sends the stored image and the strength to the model and records the lineage', async () => {
    const { testApp, remixer } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const sourceBytes = await storedBytes(testApp, 'alice', source.id);

    const subtle = await post(
      testApp,
      `/api/v1/images/${source.id}/variations`,
      { strength: 'subtle' },
      alice,
    );
    expect(subtle.statusCode).toBe(201);
    expect(subtle.json()).toMatchObject({
      success: true,
      model: 'remixer',
      size: '320x256',
      parent_id: source.id,
      kind: 'variation',
      usage: { used: 2 },
    });
    expect(subtle.json().prompt_used).toMatch(/^a red fox in snow/);
    const call = remixer.calls[0] as ImageModelCallOptions;
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.35 });
    expect(Buffer.from(call.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(sourceBytes))).toBe(true);

    const strong = await post(
      testApp,
      `/api/v1/images/${source.id}/variations`,
      { strength: 'strong' },
      alice,
    );
    expect(strong.statusCode).toBe(201);
    expect(remixer.calls[1]?.strength).toBe(0.75);
    const exact = await post(testApp, `/api/v1/images/${source.id}/variations`, { strength: 0.5 }, alice);
    expect(exact.statusCode).toBe(201);
    expect(remixer.calls[2]?.strength).toBe(0.5);
  });

  it('is a remix when a prompt is given', async () => {
    const { testApp, remixer } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const response = await post(
      testApp,
      `/api/v1/images/${source.id}/variations`,
      { prompt: 'a red fox in a summer meadow' },
      alice,
    );
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ parent_id: source.id, kind: 'remix' });
    expect(remixer.calls[0]?.prompt).toMatch(/^a red fox in a summer meadow/);
    expect(remixer.calls[0]?.strength).toBe(0.75);
  });

  it("answers 404 for another user's image and for none, charging nothing", async () => {
    const { testApp, remixer } = await start();
    const source = await sourceImage(testApp, await testApp.bearerFor('alice'));
    const bob = await testApp.bearerFor('bob');
    for (const id of [source.id, '0190a1b2-0000-7000-8000-000000000000']) {
      for (const route of ['variations', 'upscale']) {
        const response = await post(testApp, `/api/v1/images/${id}/${route}`, {}, bob);
        expect(response.statusCode).toBe(404);
        expect(response.json()).toMatchObject({ error: 'not_found' });
      }
    }
    expect(remixer.calls).toHaveLength(0);
    await expectNothingKept(testApp, 'bob', 0, 1);
  });

  it('refuses a strength out of range', async () => {
    const { testApp } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const response = await post(testApp, `/api/v1/images/${source.id}/variations`, { strength: 1.5 }, alice);
    expect(response.statusCode).toBe(422);
    expect(response.json().details[0].field).toBe('strength');
    await expectNothingKept(testApp, 'alice', 1);
  });

  it('keeps BODY_LIMIT_BYTES: it takes no image', async () => {
    const { testApp } = await start({ BODY_LIMIT_BYTES: '1024' });
    const response = await post(
      testApp,
      '/api/v1/images/any/variations',
      { prompt: 'x'.repeat(2000) },
      await testApp.bearerFor('alice'),
    );
    expect(response.statusCode).toBe(413);
  });
});

describe('POST /api/v1/images/{id}/upscale', () => {
  it('enlarges the stored image by the factor, charges one image and records the lineage', async () => {
    const { testApp, upscaler } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const sourceBytes = await storedBytes(testApp, 'alice', source.id);

    for (const [factor, size] of [
      [2, '640x512'],
      [4, '1280x1024'],
    ] as const) {
      const response = await post(testApp, `/api/v1/images/${source.id}/upscale`, { factor }, alice);
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        model: 'upscaler',
        size,
        parent_id: source.id,
        kind: 'upscale',
        cost: 0.005,
      });
      const stored = await storedBytes(testApp, 'alice', body.id);
      const metadata = await sharp(stored).metadata();
      expect(`${metadata.width}x${metadata.height}`).toBe(size);
      expect(readPngText(stored).parameters).toMatch(/Seed: 7, Size: .*Model: upscaler/);
    }
    expect(upscaler.calls.map((call) => [call.task, call.upscaleFactor])).toEqual([
      ['upscale', 2],
      ['upscale', 4],
    ]);
    expect(
      Buffer.from(upscaler.calls[0]?.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(sourceBytes)),
    ).toBe(true);
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 3, reserved: 0 });
  });

  it('refuses a factor other than 2 or 4', async () => {
    const { testApp } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const response = await post(testApp, `/api/v1/images/${source.id}/upscale`, { factor: 3 }, alice);
    expect(response.statusCode).toBe(422);
    expect(response.json().details[0].field).toBe('factor');
  });

  it('runs as a job with Prefer: respond-async, polled to the same response', async () => {
    const { testApp } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const accepted = await testApp.app.inject({
      method: 'POST',
      url: `/api/v1/images/${source.id}/upscale`,
      payload: { factor: 2 },
      headers: { authorization: alice, prefer: 'respond-async' },
    });
    expect(accepted.statusCode).toBe(202);
    const statusUrl = accepted.json().status_url as string;
    let job = (await testApp.app.inject({ url: statusUrl, headers: { authorization: alice } })).json();
    // Polled as a client would; the bound is generous and nothing is asserted about how long it took.
    for (let attempt = 0; attempt < 500 && (job.status === 'queued' || job.status === 'running'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = (await testApp.app.inject({ url: statusUrl, headers: { authorization: alice } })).json();
    }
    expect(job).toMatchObject({ status: 'succeeded', result: { parent_id: source.id, kind: 'upscale' } });
  });
});

describe('routing by capability', () => {
  it('passes over a default model that cannot take an image to a fallback that can', async () => {
    const { testApp, texter, remixer } = await start({
      IMAGE_TO_IMAGE_MODEL: '',
      IMAGE_FALLBACK_MODELS: 'upscaler,remixer',
    });
    const alice = await testApp.bearerFor('alice');
    const response = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a cat', size: '256x256', image: base64(await solidPng(64, 64)) },
      alice,
    );
    expect(response.statusCode).toBe(201);
    expect(response.json().model).toBe('remixer');
    expect(texter.calls).toHaveLength(0);
    // Text goes to the default; the upscale-only fallback is never offered a prompt.
    const text = await post(testApp, '/api/v1/generate/image', { prompt: 'a cat', size: '256x256' }, alice);
    expect(text.json().model).toBe('texter');
    expect(remixer.calls.map((call) => call.task)).toEqual(['image_to_image']);
  });

  it('is a 422 unsupported_by_model, not a text-only image, when no model on the route can do it', async () => {
    const { testApp, texter } = await start({ UPSCALE_MODEL: '' });
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const response = await post(testApp, `/api/v1/images/${source.id}/upscale`, { factor: 2 }, alice);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({
      error: 'unsupported_by_model',
      model: 'texter',
      feature: 'upscale',
      models: ['upscaler'],
    });
    expect(texter.calls).toHaveLength(1);
    await expectNothingKept(testApp, 'alice', 1);
  });
});

describe('a polled variation after a crash', () => {
  it('runs again from its stored request, on the same source image', async () => {
    const { testApp, remixer } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const jobId = await leaveCrashedJob(testApp.services, {
      userId: 'alice',
      source: 'api',
      delivery: 'rest-async',
      request: { operation: 'variation', image_id: source.id, body: { strength: 'subtle' } },
      hold: { userLimit: 5 },
    });
    expect(await testApp.services.jobs.recover()).toBe(1);
    let job: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 500 && job.status !== 'succeeded' && job.status !== 'failed'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = (
        await testApp.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { authorization: alice } })
      ).json();
    }
    expect(job).toMatchObject({ status: 'succeeded', result: { parent_id: source.id, kind: 'variation' } });
    expect(remixer.calls[0]?.strength).toBe(0.35);
    expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({ used: 2, reserved: 0 });
  });
});

describe('GET /api/v1/images', () => {
  it('shows where each image came from', async () => {
    const { testApp } = await start();
    const alice = await testApp.bearerFor('alice');
    const source = await sourceImage(testApp, alice);
    const variation = (await post(testApp, `/api/v1/images/${source.id}/variations`, {}, alice)).json();
    const upscale = (
      await post(testApp, `/api/v1/images/${variation.id}/upscale`, { factor: 2 }, alice)
    ).json();
    const list = await testApp.app.inject({ url: '/api/v1/images', headers: { authorization: alice } });
    expect(
      list
        .json()
        .images.map((image: { id: string; parent_id: string | null; kind: string | null }) => [
          image.id,
          image.parent_id,
          image.kind,
        ]),
    ).toEqual([
      [upscale.id, variation.id, 'upscale'],
      [variation.id, source.id, 'variation'],
      [source.id, null, null],
    ]);
  });
});

describe('the embedded default (placeholder)', () => {
  it('does image-to-image, a variation and an upscale offline, with the real pixel sizes', async () => {
    current = await createTestApp();
    const testApp = current;
    const alice = await testApp.bearerFor('alice', 'pro');
    const init = base64(await solidPng(300, 200, '#336699'));
    const redrawn = await post(
      testApp,
      '/api/v1/generate/image',
      { prompt: 'a harbour', size: '512x512', image: init },
      alice,
    );
    expect(redrawn.statusCode).toBe(201);
    expect(redrawn.json()).toMatchObject({ model: 'placeholder', kind: 'image_to_image' });
    const id = redrawn.json().id as string;
    const variation = await post(testApp, `/api/v1/images/${id}/variations`, { strength: 'subtle' }, alice);
    expect(variation.statusCode).toBe(201);
    expect(variation.json()).toMatchObject({ parent_id: id, kind: 'variation' });
    const upscale = await post(testApp, `/api/v1/images/${id}/upscale`, { factor: 2 }, alice);
    expect(upscale.statusCode).toBe(201);
    const stored = await storedBytes(testApp, 'alice', upscale.json().id);
    const metadata = await sharp(stored).metadata();
    const source = await sharp(await storedBytes(testApp, 'alice', id)).metadata();
    expect([metadata.width, metadata.height]).toEqual([(source.width ?? 0) * 2, (source.height ?? 0) * 2]);
    expect(upscale.json().size).toBe(`${metadata.width}x${metadata.height}`);
  });
});
