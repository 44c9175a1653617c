import { validationError } from '../../errors/imagine-error.ts';
import type {
  GenerationWarning,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
} from '../image-model.ts';
import { renderImageToImage, renderUpscale } from './placeholder-image-input.ts';
import { encodePng, renderPlaceholder } from './placeholder-render.ts';

/** The id of the offline model that draws a labelled pattern instead of calling an AI provider. */
export const placeholderModelId = 'placeholder';

/** How long the placeholder pretends to work, and the clock behind `response.timestamp`. */
export interface PlaceholderImageModelSettings {
  delayMs: number;
  /** The catalog id it answers to (default `placeholder`; a models file may add more under other ids). */
  modelId?: string;
  now?: () => Date;
}

/** Past this a side, a mistaken size would cost seconds and hundreds of megabytes to draw. */
const largestSide = 4096;

/**
 * The offline default model: after `delayMs` (to feel like a provider) it draws a PNG of the requested
 * size with a pattern chosen by prompt, seed and style, a PLACEHOLDER banner and the prompt itself.
 * It needs no network and no system fonts (its fonts ship as npm packages), and the same request always
 * gives the same bytes.
 */
export function createPlaceholderImageModel(settings: PlaceholderImageModelSettings): ImageModel {
  const now = settings.now ?? (() => new Date());
  const modelId = settings.modelId ?? placeholderModelId;
  return {
    provider: 'placeholder',
    modelId,
    maxImagesPerCall: 1,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      checkSize(options.size.width, options.size.height);
      await abortableDelay(settings.delayMs, options.abortSignal, options.onProgress);
      const images: ImageModelResult['images'] = [];
      for (let offset = 0; offset < options.n; offset++) {
        options.abortSignal?.throwIfAborted();
        images.push(await renderFor(options, offset));
      }
      return {
        images,
        warnings: warningsFor(options),
        response: {
          modelId,
          timestamp: now(),
          providerRequestId: undefined,
          revisedPrompt: undefined,
        },
        usage: { costUsd: 0 },
      };
    },
  };
}

function checkSize(width: number, height: number): void {
  const fits = (side: number) => Number.isInteger(side) && side >= 1 && side <= largestSide;
  if (fits(width) && fits(height)) return;
  throw validationError([
    {
      field: 'size',
      message: `the placeholder draws whole sides of 1 to ${largestSide} pixels, not ${width}x${height}`,
    },
  ]);
}

function warningsFor(options: ImageModelCallOptions): GenerationWarning[] {
  if (options.negativePrompt === undefined) return [];
  return [
    {
      type: 'unsupported',
      feature: 'negative_prompt',
      detail:
        'The placeholder draws a pattern, not a picture of the prompt, so a negative prompt changes nothing.',
    },
  ];
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (as `fetch` does). */
/** Steps a wait reports its progress in, so a newcomer sees "Generating… 40%" as with a real backend. */
const progressSteps = 10;

/** Waits `ms` (ending early with the signal's reason when aborted), telling `onProgress` as it goes. */
function abortableDelay(
  ms: number,
  signal: AbortSignal | undefined,
  onProgress: ((progress: number) => void) | undefined,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let step = 0;
    const ticker = onProgress
      ? setInterval(() => {
          step++;
          if (step < progressSteps) onProgress(step / progressSteps);
        }, ms / progressSteps)
      : undefined;
    const onAbort = () => {
      clearTimeout(timer);
      clearInterval(ticker);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      clearInterval(ticker);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The edit of a placeholder moves halfway from its reference: it cannot follow an instruction. */
const editStrength = 0.5;

/**
 * One image for the call's task, so a newcomer can try every flow offline: text draws the pattern;
 * image-to-image (and an edit) blends the input toward it by `strength`; an upscale is a real Lanczos resize.
 */
async function renderFor(
  options: ImageModelCallOptions,
  offset: number,
): Promise<ImageModelResult['images'][number]> {
  if (options.task === 'text_to_image') {
    return {
      bytes: await encodePng(await renderPlaceholder(options, offset)),
      mediaType: 'image/png',
      dimensions: options.size,
    };
  }
  const input = options.inputImages?.[0];
  if (!input) throw validationError([{ field: 'image', message: `${options.task} needs an input image` }]);
  if (options.task === 'upscale') {
    const factor = options.upscaleFactor === 4 ? 4 : 2;
    return {
      bytes: await renderUpscale(input.bytes, factor),
      mediaType: 'image/png',
      dimensions: { width: input.width * factor, height: input.height * factor },
    };
  }
  const strength = options.task === 'edit' ? editStrength : (options.strength ?? 0.65);
  return {
    bytes: await renderImageToImage(input.bytes, options, strength),
    mediaType: 'image/png',
    dimensions: options.size,
  };
}
