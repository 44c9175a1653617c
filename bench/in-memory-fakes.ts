/** Stand-ins that cost nothing, so the benchmark measures our code path and not a provider or a disk. */
import type { ImageModel } from '../src/core/providers/image-model.ts';
import type { ImageStorage } from '../src/core/storage/image-storage.ts';

/** A real 1×1 PNG, base64: the smallest image the pipeline accepts. */
export const tinyPngBase64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const tinyPng = Uint8Array.from(Buffer.from(tinyPngBase64, 'base64'));

/** A model that answers at once with a tiny PNG. */
export function instantModel(modelId = 'placeholder'): ImageModel {
  return {
    provider: 'bench',
    modelId,
    maxImagesPerCall: 1,
    async generate(options) {
      return {
        images: Array.from({ length: options.n }, () => ({
          bytes: tinyPng,
          mediaType: 'image/png' as const,
        })),
        warnings: [],
        response: { modelId, timestamp: new Date(), providerRequestId: undefined, revisedPrompt: undefined },
        usage: { costUsd: 0 },
      };
    },
  };
}

/** Storage that keeps objects in a map. */
export function memoryStorage(): ImageStorage {
  const objects = new Map<string, Uint8Array>();
  return {
    kind: 'memory',
    async save(image) {
      objects.set(image.key, image.bytes);
      return { key: image.key, url: `http://bench.invalid/${image.key}` };
    },
    async read(key) {
      const bytes = objects.get(key);
      if (!bytes) throw new Error(`no object ${key}`);
      return bytes;
    },
    async remove(key) {
      objects.delete(key);
    },
    async checkReady() {
      return true;
    },
  };
}
