/** MODELS_FILE as operators write it: models added or overridden, and every mistake named at start-up. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ProviderDescriptor } from '../core/providers/provider-descriptor.ts';
import { defineProvider } from '../core/providers/provider-descriptor.ts';
import { ConfigError, loadConfig } from './load-config.ts';

/** A self-hosted provider with fields of its own, as A1111's descriptor will have. */
const gpuProvider: ProviderDescriptor = defineProvider({
  name: 'test-gpu',
  hosting: 'self-hosted',
  capabilities: ['text_to_image'],
  entryOptions: z.strictObject({
    steps: z.number().int().min(1).max(150).default(20),
    sampler: z.string().min(1).optional(),
  }),
  isConfigured: () => true,
  createModel: () => {
    throw new Error('not built in these tests');
  },
});

let folder: string | undefined;
afterEach(() => {
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
  folder = undefined;
});

function write(name: string, text: string): string {
  folder ??= fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-models-file-'));
  const file = path.join(folder, name);
  fs.writeFileSync(file, text);
  return file;
}

function load(file: string, environment: Record<string, string> = {}) {
  return loadConfig({ MODELS_FILE: file, ...environment }, { providers: [gpuProvider] });
}

function problemsOf(file: string): string[] {
  try {
    load(file);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('MODELS_FILE', () => {
  it('adds a self-hosted model from YAML with its provider fields and the defaults of the rest', () => {
    const file = write(
      'models.yaml',
      `models:
  - id: sdxl-local
    provider: test-gpu
    base_url: http://192.168.1.20:7860/
    vendor_model: sd_xl_base_1.0.safetensors
    sizes: [1024x1024, 1216x832]
    steps: 30
`,
    );
    const config = load(file, { IMAGE_MODEL: 'sdxl-local' });
    const model = config.models.find('SDXL-Local');
    expect(model).toMatchObject({
      id: 'sdxl-local',
      provider: 'test-gpu',
      providerModel: 'sd_xl_base_1.0.safetensors',
      baseUrl: 'http://192.168.1.20:7860',
      fixedSizes: [
        { width: 1024, height: 1024 },
        { width: 1216, height: 832 },
      ],
      maxImagesPerCall: 1,
      premium: false,
      plans: undefined,
      concurrency: undefined,
      capabilities: ['text_to_image'],
      options: { steps: 30 },
      source: 'models file',
      definedIn: path.resolve(file),
    });
    expect(model?.priceUsd({ width: 1024, height: 1024 }, 'high')).toBe(0);
    expect(config.generation.defaultModel).toBe('sdxl-local');
    // The built-in models are still there, in front.
    expect(config.models.all().map((entry) => entry.id)).toEqual([
      'placeholder',
      'flux-schnell',
      'flux-dev',
      'flux-1.1-pro',
      'flux-kontext-pro',
      'real-esrgan',
      'dall-e-3',
      'gpt-image-1',
      'sdxl-local',
    ]);
  });

  it('overrides a built-in model by id, keeping what the entry does not say', () => {
    const file = write(
      'models.json',
      JSON.stringify({
        models: [
          { id: 'flux-dev', plans: ['pro', 'enterprise'], price_usd: 0.03, concurrency: 2 },
          {
            id: 'schnell-team',
            provider: 'replicate',
            vendor_model: 'black-forest-labs/flux-schnell',
            max_images_per_call: 4,
            price_usd: 0.003,
            api_key_env: 'TEAM_REPLICATE_TOKEN',
          },
          {
            id: 'gpt-image-1-mini',
            provider: 'openai',
            vendor_model: 'gpt-image-1-mini',
            sizes: ['1024x1024'],
            price_usd: 0.011,
          },
        ],
      }),
    );
    const config = load(file);
    const dev = config.models.find('flux-dev');
    expect(dev).toMatchObject({
      provider: 'replicate',
      providerModel: 'black-forest-labs/flux-dev',
      maxImagesPerCall: 4,
      plans: ['pro', 'enterprise'],
      concurrency: 2,
      capabilities: ['text_to_image', 'image_to_image'],
    });
    expect(dev?.priceUsd({ width: 1024, height: 1024 }, 'standard')).toBe(0.03);
    expect(config.models.find('schnell-team')).toMatchObject({
      apiKeyEnv: 'TEAM_REPLICATE_TOKEN',
      premium: false,
      // What its vendor model's input mapping can do, not everything Replicate's models can.
      capabilities: ['text_to_image'],
    });
    // OpenAI's models are premium, whether built in or added: enterprise-only unless a plan lists them.
    expect(config.models.find('gpt-image-1-mini')).toMatchObject({ premium: true });
    expect(config.models.all()).toHaveLength(10);
  });

  it('gives a ComfyUI entry what its workflow can do, and refuses a claim the workflow cannot back', () => {
    const workflows = path.resolve(import.meta.dirname, '../../workflows');
    const entry = (id: string, workflow: string, extra: object = {}) => ({
      id,
      provider: 'comfyui',
      base_url: 'http://127.0.0.1:8188',
      workflow: path.join(workflows, workflow),
      ...extra,
    });
    const file = write(
      'models.json',
      JSON.stringify({
        models: [entry('sdxl-i2i', 'sdxl-image-to-image.json'), entry('sdxl-t2i', 'sdxl-text-to-image.json')],
      }),
    );
    const config = load(file);
    expect(config.models.find('sdxl-i2i')?.capabilities).toEqual(['image_to_image']);
    expect(config.models.find('sdxl-t2i')?.capabilities).toEqual(['text_to_image']);

    const claiming = write(
      'claiming.json',
      JSON.stringify({
        models: [
          entry('x', 'sdxl-text-to-image.json', { capabilities: ['text_to_image', 'image_to_image'] }),
        ],
      }),
    );
    expect(problemsOf(claiming)).toEqual([
      `MODELS_FILE ${claiming}: models[0] (id "x"): capabilities: this comfyui entry cannot do image_to_image (it can: text_to_image)`,
    ]);
  });

  it('lets IMAGE_FALLBACK_MODELS and PLAN_MODELS name models from the file', () => {
    const file = write(
      'models.yml',
      'models:\n  - id: gpu\n    provider: test-gpu\n    base_url: http://127.0.0.1:7860\n',
    );
    const config = load(file, { IMAGE_FALLBACK_MODELS: 'gpu', PLAN_MODELS: 'free=gpu,placeholder' });
    expect(config.generation.fallbackModels).toEqual(['gpu']);
    expect(() => loadConfig({ IMAGE_FALLBACK_MODELS: 'gpu' })).toThrow(/IMAGE_FALLBACK_MODELS names "gpu"/);
  });

  it.each([
    [
      'an unknown provider',
      { id: 'x', provider: 'midjourney' },
      'models[0] (id "x"): provider: "midjourney" is not one of: placeholder, replicate, openai, automatic1111, comfyui, openai-compatible, test-gpu',
    ],
    [
      'a size that is not WxH',
      { id: 'x', provider: 'test-gpu', base_url: 'http://127.0.0.1:1', sizes: ['big'] },
      'models[0] (id "x"): sizes.0: must be "any" or a list of sizes like "1024x1024"',
    ],
    [
      "a field the provider's schema does not know",
      { id: 'x', provider: 'test-gpu', base_url: 'http://127.0.0.1:1', cfg: 7 },
      'models[0] (id "x"): cfg: Unrecognized key: "cfg"',
    ],
    [
      'a provider field of the wrong type',
      { id: 'x', provider: 'test-gpu', base_url: 'http://127.0.0.1:1', steps: 'many' },
      'models[0] (id "x"): steps:',
    ],
    [
      'a self-hosted model without base_url',
      { id: 'x', provider: 'test-gpu' },
      'models[0] (id "x"): base_url: is required',
    ],
    [
      'a cloud model without a price',
      { id: 'x', provider: 'replicate', vendor_model: 'black-forest-labs/flux-dev' },
      'models[0] (id "x"): price_usd: is required for a cloud model',
    ],
    [
      'a key where the name of its variable belongs',
      { id: 'x', provider: 'replicate', price_usd: 1, api_key_env: 'r8_abc', vendor_model: 'a/b' },
      'models[0] (id "x"): api_key_env: must be the NAME of an environment variable',
    ],
    [
      'a Replicate model without an input mapping',
      { id: 'x', provider: 'replicate', vendor_model: 'stability-ai/sdxl', price_usd: 0.01 },
      'models[0] (id "x"): vendor_model: must be a Replicate model this service has an input mapping for',
    ],
    [
      'a capability its vendor model cannot do',
      {
        id: 'x',
        provider: 'replicate',
        vendor_model: 'black-forest-labs/flux-schnell',
        price_usd: 0.003,
        capabilities: ['text_to_image', 'image_to_image'],
      },
      'models[0] (id "x"): capabilities: this replicate entry cannot do image_to_image (it can: text_to_image)',
    ],
    [
      'a plan that does not exist',
      { id: 'x', provider: 'test-gpu', base_url: 'http://127.0.0.1:1', plans: ['gold'] },
      'models[0] (id "x"): plans: "gold" is not a plan',
    ],
    [
      'an id users could not type',
      { id: 'My Model', provider: 'test-gpu' },
      'models[0] (id "My Model"): id:',
    ],
    ['an entry without an id', { provider: 'test-gpu' }, 'models[0]: id: is required'],
  ])('stops start-up on %s, naming the file, the entry and the field', (_case, entry, expected) => {
    const file = write('models.json', JSON.stringify({ models: [entry] }));
    const problems = problemsOf(file);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`MODELS_FILE ${file}: ${expected}`);
  });

  it('names the second entry by index and id when it repeats an id', () => {
    const gpu = { provider: 'test-gpu', base_url: 'http://127.0.0.1:1' };
    const file = write(
      'models.json',
      JSON.stringify({
        models: [
          { id: 'a', ...gpu },
          { id: 'a', ...gpu },
        ],
      }),
    );
    expect(problemsOf(file)).toEqual([
      `MODELS_FILE ${file}: models[1] (id "a"): id: "a" is listed twice in the file`,
    ]);
  });

  it('refuses a file it cannot read or make sense of', () => {
    expect(problemsOf(path.join(os.tmpdir(), 'imagine-no-such-models.yaml'))[0]).toMatch(
      /MODELS_FILE .*imagine-no-such-models\.yaml: cannot be read: ENOENT/,
    );
    expect(problemsOf(write('models.toml', 'models = []'))[0]).toMatch(/must end in \.json, \.yaml or \.yml/);
    expect(problemsOf(write('models.json', '{"model": []}'))[0]).toMatch(
      /must have a top-level "models" list/,
    );
    expect(problemsOf(write('broken.yaml', 'models: [\n'))[0]).toMatch(/broken\.yaml: cannot be read:/);
  });
});
