/**
 * The A1111 model inside the real core (quota, routing, storage, records): what a user of a self-hosted
 * GPU notices. Until MODELS_FILE registers models by their own ids, the model stands in for catalog ids
 * (`placeholder`, `flux-schnell`), as the generator's own tests do with scripted models.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../../services.ts';
import {
  closedPortUrl,
  type StandInServer,
  sendJson,
  startStandInServer,
} from '../../../test-support/stand-in-server.ts';
import {
  createTestServices,
  onePng,
  scriptedModel,
  storedImageFiles,
} from '../../../test-support/test-services.ts';
import { ImagineError } from '../../errors/imagine-error.ts';
import { createAutomatic1111ImageModel } from './automatic1111-image-model.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const recorded = JSON.parse(readFileSync(path.join(fixtures, 'txt2img-success.json'), 'utf8')) as {
  images: string[];
  info: string;
};

let services: Services | undefined;
let server: StandInServer | undefined;

afterEach(async () => {
  await services?.close();
  await server?.close();
  services = undefined;
  server = undefined;
});

/** A stand-in A1111 whose txt2img answer `respond` decides; interrupt and progress answer as A1111 does. */
async function startA1111(respond: (body: { seed: number }) => unknown | Promise<unknown>) {
  server = await startStandInServer(async (request, response) => {
    if (request.pathname === '/sdapi/v1/txt2img')
      sendJson(response, 200, await respond(request.body as { seed: number }));
    else if (request.pathname === '/sdapi/v1/interrupt') sendJson(response, 200, {});
  });
  return server;
}

function a1111(baseUrl: string, modelId = 'placeholder') {
  return createAutomatic1111ImageModel({
    modelId,
    baseUrl,
    vendorModel: undefined,
    maxImagesPerCall: 1,
    timeoutMs: 10_000,
    options: {},
    env: {},
    retryPolicy: { deadlineMs: 10_000, attemptTimeoutMs: 10_000, initialDelayMs: 10, maxRetries: 0 },
  });
}

const context = (
  caller: Awaited<ReturnType<Services['accounts']['appCaller']>>,
  abortSignal?: AbortSignal,
) => ({
  caller,
  scope: undefined,
  source: 'api' as const,
  abortSignal,
});

async function codeOf(promise: Promise<unknown>): Promise<string | unknown> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return ImagineError.isInstance(error) ? error.code : error;
}

describe('an A1111 model in the generator', () => {
  it('stores the image, charges it once and records the seed A1111 used', async () => {
    const stand = await startA1111((body) => ({
      ...recorded,
      info: JSON.stringify({
        ...(JSON.parse(recorded.info) as object),
        seed: body.seed,
        all_seeds: [body.seed],
      }),
    }));
    services = await createTestServices({}, { models: [a1111(stand.url)] });
    const caller = await services.accounts.appCaller('alice');

    const outcome = await services.generator.generate(
      { prompt: 'a lighthouse', seed: 1234 },
      context(caller),
    );

    expect(outcome.images).toHaveLength(1);
    expect(outcome.images[0]).toMatchObject({ seed: 1234, size: { width: 512, height: 512 } });
    expect(storedImageFiles(services)).toHaveLength(1);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('turns a malformed answer into generation_failed, storing and charging nothing', async () => {
    const stand = await startA1111(() => ({ ...recorded, images: [] }));
    services = await createTestServices({}, { models: [a1111(stand.url)] });
    const caller = await services.accounts.appCaller('alice');

    expect(await codeOf(services.generator.generate({ prompt: 'a lighthouse' }, context(caller)))).toBe(
      'generation_failed',
    );
    expect(storedImageFiles(services)).toEqual([]);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it('interrupts the render when the caller cancels, and charges nothing', async () => {
    const controller = new AbortController();
    let release: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startStandInServer(async (request, response) => {
      if (request.pathname === '/sdapi/v1/txt2img') {
        controller.abort();
        await interrupted;
        sendJson(response, 200, recorded);
      } else if (request.pathname === '/sdapi/v1/interrupt') {
        sendJson(response, 200, {});
        release();
      }
    });
    services = await createTestServices({}, { models: [a1111(server.url)] });
    const caller = await services.accounts.appCaller('alice');

    const code = await codeOf(
      services.generator.generate({ prompt: 'a lighthouse' }, context(caller, controller.signal)),
    );

    expect(code).toBe('generation_failed');
    expect(server.requests.map((request) => request.pathname)).toEqual([
      '/sdapi/v1/txt2img',
      '/sdapi/v1/interrupt',
    ]);
    expect(storedImageFiles(services)).toEqual([]);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it('falls back to the next model when the GPU box is down', async () => {
    const fallback = scriptedModel(onePng, 'flux-schnell');
    services = await createTestServices(
      { IMAGE_MODEL: 'placeholder', IMAGE_FALLBACK_MODELS: 'flux-schnell' },
      { models: [a1111(await closedPortUrl()), fallback] },
    );
    const caller = await services.accounts.appCaller('alice');

    const outcome = await services.generator.generate({ prompt: 'a lighthouse' }, context(caller));

    expect(outcome.images[0]?.model).toBe('flux-schnell');
    expect(fallback.calls).toHaveLength(1);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
  });
});
