import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ImageModelRegistry, type RegisteredModel } from './image-model-registry.ts';
import { builtInModel, flatPrice, ModelCatalog } from './model-catalog.ts';
import { ReadinessChecker } from './model-readiness.ts';
import { ProviderCallError } from './provider-error.ts';

function registered(id: string, configured: boolean, probe: RegisteredModel['probe']): RegisteredModel {
  const descriptor = builtInModel({
    id,
    provider: 'gpu',
    providerModel: undefined,
    description: id,
    maxImagesPerCall: 1,
    priceUsd: flatPrice(0),
  });
  return {
    descriptor,
    configured,
    probe,
    model: {
      provider: 'gpu',
      modelId: id,
      maxImagesPerCall: 1,
      generate: () => Promise.reject(new Error('not called')),
    },
  };
}

function checker(models: RegisteredModel[], clock: { now: number }) {
  const registry = new ImageModelRegistry(new ModelCatalog(models.map((model) => model.descriptor)), models);
  return new ReadinessChecker(registry, {
    logger: pino({ level: 'silent' }),
    cacheMs: 5_000,
    now: () => clock.now,
  });
}

describe('ReadinessChecker', () => {
  it('reports each model: unconfigured, probed ready, probed down with the failure kind, or ready without a probe', async () => {
    const down = () =>
      Promise.reject(
        new ProviderCallError('network', 'connect ECONNREFUSED 10.0.0.5:7860', { provider: 'gpu' }),
      );
    const report = await checker(
      [
        registered('no-key', false, async () => undefined),
        registered('up', true, async () => undefined),
        registered('down', true, down),
        registered('broken', true, () => Promise.reject(new Error('bad JSON'))),
        registered('cloud', true, undefined),
      ],
      { now: 0 },
    ).check();
    expect(report).toEqual([
      { id: 'no-key', provider: 'gpu', configured: false, ready: false, problem: 'not_configured' },
      { id: 'up', provider: 'gpu', configured: true, ready: true, problem: undefined },
      { id: 'down', provider: 'gpu', configured: true, ready: false, problem: 'network' },
      { id: 'broken', provider: 'gpu', configured: true, ready: false, problem: 'failed' },
      { id: 'cloud', provider: 'gpu', configured: true, ready: true, problem: undefined },
    ]);
    // The address in the error stays in the log: /health is unauthenticated.
    expect(JSON.stringify(report)).not.toContain('10.0.0.5');
  });

  it('probes a backend at most once per cache period, however often health is asked', async () => {
    const clock = { now: 0 };
    let probes = 0;
    const readiness = checker(
      [
        registered('gpu', true, async () => {
          probes++;
        }),
      ],
      clock,
    );
    await Promise.all([readiness.check(), readiness.check()]);
    clock.now = 4_999;
    await readiness.check();
    expect(probes).toBe(1);
    clock.now = 5_000;
    await readiness.check();
    expect(probes).toBe(2);
  });

  it('calls a probe that never answers not ready once its timeout passes', async () => {
    const registry = new ImageModelRegistry(
      new ModelCatalog([registered('hung', true, undefined).descriptor]),
      [registered('hung', true, () => new Promise<void>(() => undefined))],
    );
    const report = await new ReadinessChecker(registry, {
      logger: pino({ level: 'silent' }),
      timeoutMs: 1,
    }).check();
    expect(report[0]).toMatchObject({ ready: false, problem: 'timeout' });
  });
});
