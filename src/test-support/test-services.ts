/**
 * Builds the real services on a temporary data folder for tests: the same composition as production,
 * with quiet logs and whatever stand-ins a test passes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../config/load-config.ts';
import type {
  GeneratedImage,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
} from '../core/providers/image-model.ts';
import type { ProviderDescriptor } from '../core/providers/provider-descriptor.ts';
import { createServices, type ServiceOverrides, type Services } from '../services.ts';

/** A data folder that is removed when the test's services close. */
export function temporaryDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-test-'));
}

/** Stand-ins for the services, and providers registered beyond the built-in ones (a test's own). */
export interface TestOverrides extends ServiceOverrides {
  providers?: readonly ProviderDescriptor[];
  /** Where the services log (a capturing logger); silent by default. */
  logger?: Logger;
}

/** Real services over a fresh SQLite file, with `environment` on top of the embedded defaults. */
export async function createTestServices(
  environment: Record<string, string> = {},
  overrides: TestOverrides = {},
): Promise<Services> {
  const dataDir = temporaryDataDir();
  const { providers, logger, ...serviceOverrides } = overrides;
  const config = loadConfig(
    { NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...environment },
    providers ? { providers } : {},
  );
  const services = await createServices(config, logger ?? pino({ level: 'silent' }), serviceOverrides);
  const close = services.close.bind(services);
  services.close = async () => {
    await close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return services;
}

/** A 1×1 PNG: the smallest real image, for stand-in providers whose pixels do not matter. */
export const tinyPng = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  ),
);

/**
 * A stand-in model whose behaviour each test scripts: `respond` decides, per call, to return images or
 * throw. Calls are recorded so tests can assert what the core sent.
 */
export function scriptedModel(
  respond: (
    options: ImageModelCallOptions,
    callNumber: number,
  ) => Promise<GeneratedImage[]> | GeneratedImage[],
  modelId = 'placeholder',
): ImageModel & { calls: ImageModelCallOptions[] } {
  const calls: ImageModelCallOptions[] = [];
  return {
    provider: 'test',
    modelId,
    maxImagesPerCall: 1,
    calls,
    async generate(options): Promise<ImageModelResult> {
      calls.push(options);
      const images = await respond(options, calls.length);
      return {
        images,
        warnings: [],
        response: { modelId, timestamp: new Date(), providerRequestId: undefined, revisedPrompt: undefined },
        usage: { costUsd: undefined },
      };
    },
  };
}

/** What a scripted model returns for one successful image. */
export const onePng = (): GeneratedImage[] => [{ bytes: tinyPng, mediaType: 'image/png' }];

/** Image files under the services' data folder: what storage holds, to prove nothing was left behind. */
export function storedImageFiles(services: Services): string[] {
  const folder = path.join(services.config.dataDir, 'images');
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { recursive: true })
    .map(String)
    .filter((name) => /\.(png|jpg|webp)$/.test(name));
}
