/** Registration is data: a list of descriptors, and nothing outside a provider's folder branches on its name. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineProvider } from './provider-descriptor.ts';
import { builtInProviders, ProviderRegistry } from './provider-registry.ts';

const extra = defineProvider({
  name: 'extra',
  hosting: 'self-hosted',
  capabilities: ['text_to_image'],
  isConfigured: () => true,
  createModel: () => {
    throw new Error('not built here');
  },
});

const sourceRoot = path.resolve(import.meta.dirname, '../..');
const providerFolders = path.join(sourceRoot, 'core/providers');

function sourceFiles(folder: string): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === '__fixtures__' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('ProviderRegistry', () => {
  it("lists the built-in providers' models in registration order, then accepts a caller's own", () => {
    const registry = new ProviderRegistry([extra]);
    expect(registry.names()).toEqual([
      'placeholder',
      'replicate',
      'openai',
      'automatic1111',
      'comfyui',
      'openai-compatible',
      'extra',
    ]);
    expect(registry.builtInModels().map((model) => model.id)).toEqual([
      'placeholder',
      'flux-schnell',
      'flux-dev',
      'flux-1.1-pro',
      'flux-kontext-pro',
      'real-esrgan',
      'dall-e-3',
      'gpt-image-1',
    ]);
    expect(registry.get('extra')).toBe(extra);
  });

  it('refuses two providers of one name', () => {
    expect(() => new ProviderRegistry([extra, extra])).toThrow('two providers are named "extra"');
  });

  it('gives every built-in model its own provider, and every provider folder one descriptor', () => {
    for (const provider of builtInProviders) {
      for (const model of provider.builtInModels ?? []) expect(model.provider).toBe(provider.name);
      const file = path.join(providerFolders, provider.name, `${provider.name}-provider.ts`);
      expect(fs.existsSync(file), file).toBe(true);
    }
  });

  it('has no code outside the provider folders that branches on a provider name', () => {
    const central = sourceFiles(sourceRoot).filter(
      (file) => path.dirname(file) === providerFolders || !file.startsWith(`${providerFolders}${path.sep}`),
    );
    const branches = central.flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => /provider\s*[!=]==\s*['"]/.test(line))
        .map((line) => `${path.relative(sourceRoot, file)}: ${line.trim()}`),
    );
    expect(branches).toEqual([]);
  });
});
