import { describe, expect, it } from 'vitest';
import { limitConcurrency } from './concurrency-limit.ts';
import type { ImageModel, ImageModelCallOptions } from './image-model.ts';

function slowModel(
  provider: string,
  modelId: string,
  tracker: { running: number; most: number },
): ImageModel {
  return {
    provider,
    modelId,
    maxImagesPerCall: 1,
    async generate() {
      tracker.running++;
      tracker.most = Math.max(tracker.most, tracker.running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      tracker.running--;
      return {
        images: [],
        warnings: [],
        response: { modelId, timestamp: new Date(), providerRequestId: undefined, revisedPrompt: undefined },
        usage: { costUsd: 0 },
      };
    },
  };
}

const options: ImageModelCallOptions = {
  task: 'text_to_image',
  prompt: 'x',
  negativePrompt: undefined,
  n: 1,
  size: { width: 1024, height: 1024 },
  aspectRatio: '1:1',
  seed: undefined,
  quality: 'high',
  style: undefined,
  abortSignal: undefined,
  resumeProviderRequestId: undefined,
  onProviderRequest: undefined,
  onProgress: undefined,
  onQueued: undefined,
  inputImages: undefined,
  strength: undefined,
  upscaleFactor: undefined,
};

describe('limitConcurrency', () => {
  it('never runs more calls to one provider at once than its limit, across its models', async () => {
    const replicate = { running: 0, most: 0 };
    const [schnell, dev] = limitConcurrency(
      [slowModel('replicate', 'flux-schnell', replicate), slowModel('replicate', 'flux-dev', replicate)],
      (model) => ({ key: model.provider, limit: 2 }),
    );
    await Promise.all(
      Array.from({ length: 6 }, (_, index) => (index % 2 ? schnell : dev)?.generate(options)),
    );
    expect(replicate.most).toBe(2);
  });

  it('leaves models without a group unlimited', async () => {
    const tracker = { running: 0, most: 0 };
    const [model] = limitConcurrency([slowModel('placeholder', 'placeholder', tracker)], () => undefined);
    await Promise.all(Array.from({ length: 3 }, () => model?.generate(options)));
    expect(tracker.most).toBe(3);
  });

  it('does not start a queued call whose caller has gone', async () => {
    const tracker = { running: 0, most: 0 };
    const [model] = limitConcurrency([slowModel('openai', 'dall-e-3', tracker)], () => ({
      key: 'openai',
      limit: 1,
    }));
    const controller = new AbortController();
    const first = model?.generate(options);
    const queued = model?.generate({ ...options, abortSignal: controller.signal });
    controller.abort(new Error('client left'));
    await first;
    await expect(queued).rejects.toThrow('client left');
    expect(tracker.most).toBe(1);
  });
});

describe('a busy model tells waiting calls their place', () => {
  it('tells each waiting call its place as the line moves, and 0 when it starts', async () => {
    const releases: Array<() => void> = [];
    const gated: ImageModel = {
      provider: 'gpu',
      modelId: 'one-gpu',
      maxImagesPerCall: 1,
      generate: () =>
        new Promise((resolve) => {
          releases.push(() =>
            resolve({
              images: [],
              warnings: [],
              response: {
                modelId: 'one-gpu',
                timestamp: new Date(),
                providerRequestId: undefined,
                revisedPrompt: undefined,
              },
              usage: { costUsd: 0 },
            }),
          );
        }),
    };
    const [model] = limitConcurrency([gated], () => ({ key: 'box', limit: 1 }));
    const told: Record<string, number[]> = { a: [], b: [], c: [] };
    const call = (name: string) =>
      model?.generate({ ...options, onQueued: (position) => told[name]?.push(position) });
    const calls = [call('a'), call('b'), call('c')];
    await expect.poll(() => releases.length).toBe(1);
    expect(told).toEqual({ a: [], b: [1], c: [2] });
    releases.shift()?.();
    await expect.poll(() => releases.length).toBe(1);
    expect(told).toEqual({ a: [], b: [1, 0], c: [2, 1] });
    releases.shift()?.();
    await expect.poll(() => releases.length).toBe(1);
    expect(told).toEqual({ a: [], b: [1, 0], c: [2, 1, 0] });
    releases.shift()?.();
    await Promise.all(calls);
  });
});
