import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { createTestServices, onePng, scriptedModel } from '../../test-support/test-services.ts';
import { ImagineError } from '../errors/imagine-error.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

function filesUnder(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<ImagineError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ImagineError.isInstance(error) ? error.code : error).toBe(code);
  return error as ImagineError;
}

describe('ImageGenerator', () => {
  it('removes stored images and releases the quota when recording fails', async () => {
    services = await createTestServices({}, { models: [scriptedModel(onePng)] });
    const caller = await services.accounts.appCaller('alice');
    // Recording is the step after storage: break it and nothing must stay behind.
    sqliteOf(services).exec('DROP TABLE generations');
    const error = await services.generator
      .generateBatch(
        { prompt: 'x', num_images: 2 },
        { caller, scope: undefined, source: 'api', abortSignal: undefined },
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(filesUnder(path.join(services.config.dataDir, 'images'))).toEqual([]);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
    expect(await services.ledger.pendingReservationIds()).toEqual([]);
  });

  it('charges only the images that were stored when storage fails for one', async () => {
    services = await createTestServices({}, { models: [scriptedModel(onePng)] });
    const storage = services.storage;
    let saves = 0;
    const originalSave = storage.save.bind(storage);
    storage.save = async (image) => {
      saves++;
      if (saves === 1) throw new Error('disk full');
      return originalSave(image);
    };
    const caller = await services.accounts.appCaller('alice');
    const outcome = await services.generator.generateBatch(
      { prompt: 'x', num_images: 3 },
      { caller, scope: undefined, source: 'api', abortSignal: undefined },
    );
    expect(outcome.images).toHaveLength(2);
    expect(outcome.failures).toHaveLength(1);
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 2, reserved: 0 });
    expect(filesUnder(path.join(services.config.dataDir, 'images'))).toHaveLength(2);
  });

  it('releases the hold when the caller cancels mid-generation', async () => {
    services = await createTestServices(
      {},
      {
        models: [
          scriptedModel(async (options) => {
            await new Promise((_resolve, reject) => {
              options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason));
            });
            return onePng();
          }),
        ],
      },
    );
    const controller = new AbortController();
    const caller = await services.accounts.appCaller('alice');
    const pending = services.generator.generate(
      { prompt: 'x' },
      { caller, scope: undefined, source: 'api', abortSignal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await services.ledger.usage('alice', 5)).reserved).toBe(1);
    controller.abort(new Error('client left'));
    await expectCode(pending, 'generation_failed');
    expect(await services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
  });

  it('enforces a scope cap passed by a chat transport', async () => {
    const chat = await createTestServices({}, { models: [scriptedModel(onePng)] });
    services = chat;
    const context = async (userId: string) => ({
      caller: await chat.accounts.chatCaller(userId),
      scope: { key: 'discord-guild:1', limit: 2 },
      source: 'discord' as const,
      abortSignal: undefined,
    });
    await services.generator.generate({ prompt: 'a' }, await context('discord:1'));
    await services.generator.generate({ prompt: 'b' }, await context('discord:2'));
    const error = await expectCode(
      services.generator.generate({ prompt: 'c' }, await context('discord:3')),
      'scope_limit_reached',
    );
    expect(error.context).toEqual({ used: 2, limit: 2 });
  });

  it('stops generation when the monthly budget would be exceeded', async () => {
    services = await createTestServices(
      { MONTHLY_BUDGET_USD: '0.05', PLAN_MODELS: 'free=*' },
      {
        models: [scriptedModel(onePng, 'dall-e-3')],
      },
    );
    const caller = await services.accounts.appCaller('alice');
    const context = { caller, scope: undefined, source: 'api' as const, abortSignal: undefined };
    const first = await services.generator.generate(
      { prompt: 'a', model: 'dall-e-3', quality: 'standard' },
      context,
    );
    expect(first.totalCostUsd).toBe(0.04);
    await expectCode(
      services.generator.generate({ prompt: 'b', model: 'dall-e-3', quality: 'standard' }, context),
      'budget_exhausted',
    );
    expect((await services.ledger.spending()).spentUsd).toBe(0.04);
  });

  it('sends the enhanced prompt, the size and a reproducible seed to the model', async () => {
    const model = scriptedModel(onePng);
    services = await createTestServices({}, { models: [model] });
    const caller = await services.accounts.appCaller('alice');
    const outcome = await services.generator.generateBatch(
      {
        prompt: 'a castle',
        num_images: 2,
        seed: 41,
        style: 'watercolor',
        aspect_ratio: '3:2',
        negative_prompt: 'people',
      },
      { caller, scope: undefined, source: 'api', abortSignal: undefined },
    );
    expect(model.calls.map((call) => call.seed)).toEqual([41, 42]);
    expect(model.calls[0]).toMatchObject({ n: 1, aspectRatio: '3:2', size: { width: 1248, height: 832 } });
    expect(model.calls[0]?.prompt).toMatch(/^a castle, .*watercolor/i);
    expect(model.calls[0]?.negativePrompt).toMatch(/^people/);
    expect(outcome.images.map((image) => image.promptUsed)).toEqual([
      model.calls[0]?.prompt,
      model.calls[1]?.prompt,
    ]);
  });
});
