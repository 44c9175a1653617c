import type { Logger } from 'pino';
import { callWithRetries, type RetryPolicy } from '../call-with-retries.ts';
import type {
  GeneratedImage,
  GenerationWarning,
  ImageDimensions,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
  ModelCapability,
} from '../image-model.ts';
import { nearestOpenAISize } from '../openai/openai-image-model.ts';
import { ProviderCallError } from '../provider-error.ts';
import { identifyImageBytes } from '../safe-download.ts';
import {
  basicAuthorization,
  classifyHttpError,
  decodeBase64Image,
  type EnvironmentVariables,
  type ProbeResult,
  readSecret,
  requestJson,
  selfHostedRetryPolicy,
  trimTrailingSlashes,
} from '../self-hosted-http.ts';
import {
  parseExtrasResponse,
  parseProgress,
  parseSdModels,
  parseTxt2ImgResponse,
} from './automatic1111-api.ts';
import {
  type Automatic1111Options,
  buildImg2ImgRequest,
  buildTxt2ImgRequest,
  buildUpscaleRequest,
} from './automatic1111-options.ts';

/** What an A1111 server can do: txt2img, img2img, and upscales through its extras tab. */
export const automatic1111Capabilities: readonly ModelCapability[] = [
  'text_to_image',
  'image_to_image',
  'upscale',
];

/** One configured A1111 or Forge model: an entry of MODELS_FILE with `provider: automatic1111`. */
export interface Automatic1111ImageModelSettings {
  /** imagine's id for the model (the entry's `id`). */
  modelId: string;
  /** The server's root, e.g. `http://192.168.1.20:7860` (the entry's `base_url`). */
  baseUrl: string;
  /** The checkpoint to render with (`vendor_model`), sent as `override_settings.sd_model_checkpoint`. */
  vendorModel: string | undefined;
  /** The most images one txt2img call renders (`batch_size`). */
  maxImagesPerCall: number;
  /** What the entry may be called for (its `capabilities`); default all an A1111 server can do. */
  capabilities?: readonly ModelCapability[] | undefined;
  /** The whole call, retry included (`timeout_ms`). */
  timeoutMs: number;
  options: Automatic1111Options;
  /** The sizes the entry allows; undefined for any size (rounded to A1111's multiples of 8). */
  sizes?: readonly ImageDimensions[] | undefined;
  /** Where `username_env` / `password_env` are read when a call is made (default `process.env`). */
  env?: EnvironmentVariables;
  /** Default: node:http over shared keep-alive connections (a quarter of fetch's CPU per call). */
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
  /** Between `GET /sdapi/v1/progress` polls while a render runs (default 1 s). */
  progressPollMs?: number;
  now?: () => Date;
  /** Default: selfHostedRetryPolicy(timeoutMs). */
  retryPolicy?: RetryPolicy;
}

const provider = 'automatic1111';
const defaultProgressPollMs = 1000;
/** A progress poll or an interrupt that takes longer than this is abandoned: they are cheap calls. */
const sideCallTimeoutMs = 3000;
const defaultProbeTimeoutMs = 3000;
/** SD's latent is an eighth of the image: A1111 renders sides in multiples of 8. */
const sideStep = 8;
const smallestSide = 64;

/**
 * A Stable Diffusion checkpoint behind AUTOMATIC1111's or Forge's API (`--api`). One call is one
 * `POST /sdapi/v1/txt2img` with `batch_size` = n (`/sdapi/v1/img2img` with the init image for
 * image_to_image, `/sdapi/v1/extra-single-image` for an upscale); while it renders,
 * `GET /sdapi/v1/progress` feeds `onProgress`. A caller who leaves, or a render past its timeout, gets
 * `POST /sdapi/v1/interrupt` so the GPU does not keep working for nobody. Each image carries the seed A1111
 * reports in `info`.
 */
export function createAutomatic1111ImageModel(settings: Automatic1111ImageModelSettings): ImageModel {
  const root = trimTrailingSlashes(settings.baseUrl);
  const fetch = settings.fetch;
  const policy = settings.retryPolicy ?? selfHostedRetryPolicy(settings.timeoutMs);
  const now = settings.now ?? (() => new Date());
  const env = settings.env ?? process.env;
  const { logger, modelId, maxImagesPerCall } = settings;
  // Made once per model, not per call (see ProgressPoll on what a closure costs here).
  const classify = classifyHttpError(provider);
  const onRetry = (error: ProviderCallError, attempt: number) =>
    logger?.warn({ err: error, model: modelId, attempt }, 'A1111 call failed; trying again');

  return {
    provider,
    modelId,
    maxImagesPerCall,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      if (!Number.isInteger(options.n) || options.n < 1 || options.n > maxImagesPerCall) {
        // The core splits requests by maxImagesPerCall, so this is a caller's bug, not a user's mistake.
        throw new RangeError(`${modelId} takes 1 to ${maxImagesPerCall} images a call, not ${options.n}`);
      }
      const capabilities = settings.capabilities ?? automatic1111Capabilities;
      if (!capabilities.includes(options.task)) {
        throw rejected(`${modelId} cannot do ${options.task} (it does ${capabilities.join(', ')})`);
      }
      const headers = authHeaders(settings.options, env);
      const size = renderSize(options.size, settings.sizes);
      const call = callFor(options, size, settings);
      const progress =
        options.onProgress && call.endpoint !== 'extra-single-image'
          ? new ProgressPoll({
              root,
              headers,
              fetch,
              intervalMs: settings.progressPollMs ?? defaultProgressPollMs,
              onProgress: options.onProgress,
            })
          : undefined;

      let answer: unknown;
      // Only a render that was asked for is interrupted: the server may be busy with someone else's.
      let sent = false;
      try {
        answer = await callWithRetries(
          (signal) => {
            sent = true;
            return requestJson({
              provider,
              method: 'POST',
              url: `${root}/sdapi/v1/${call.endpoint}`,
              body: call.body,
              kindOf: refusedImage,
              headers,
              signal,
              fetch,
            });
          },
          { policy, classify, abortSignal: options.abortSignal, onRetry },
        );
      } catch (error) {
        progress?.stop();
        const abandoned =
          sent &&
          (options.abortSignal?.aborted === true ||
            (error instanceof ProviderCallError && error.kind === 'timeout'));
        if (abandoned) await interrupt(root, headers, fetch, logger);
        throw error;
      }
      progress?.stop();

      const parsed =
        call.endpoint === 'extra-single-image'
          ? parseExtrasResponse(answer)
          : parseTxt2ImgResponse(answer, call.endpoint);
      const images = await Promise.all(
        parsed.images.map(async (base64, index): Promise<GeneratedImage> => {
          const { bytes, mediaType, width, height } = await identifyImageBytes(
            decodeBase64Image(base64, provider),
            provider,
          );
          return { bytes, mediaType, dimensions: { width, height }, seed: parsed.seeds[index] };
        }),
      );
      options.onProgress?.(1);
      return {
        images,
        warnings:
          call.endpoint === 'extra-single-image'
            ? upscaleWarnings(options, images)
            : warningsFor(options, size, images),
        response: { modelId, timestamp: now(), providerRequestId: undefined, revisedPrompt: undefined },
        // The entry's `price_usd` (usually 0 for one's own GPU) is what the generator charges.
        usage: { costUsd: undefined },
      };
    },
  };
}

/** The endpoint and body for one call's task (already checked to be one the entry does). */
function callFor(
  options: ImageModelCallOptions,
  size: ImageDimensions,
  settings: Automatic1111ImageModelSettings,
): { endpoint: 'txt2img' | 'img2img' | 'extra-single-image'; body: object } {
  const { vendorModel, options: entry } = settings;
  if (options.task === 'text_to_image') {
    return {
      endpoint: 'txt2img',
      body: buildTxt2ImgRequest(options, size, vendorModel, entry),
    };
  }
  const [image] = options.inputImages ?? [];
  if (image === undefined) throw rejected(`${options.task} needs an input image, and the call has none`);
  if (options.task === 'image_to_image') {
    if (options.strength === undefined)
      throw rejected('image_to_image needs a strength, and the call has none');
    return {
      endpoint: 'img2img',
      body: buildImg2ImgRequest(options, image, options.strength, size, vendorModel, entry),
    };
  }
  if (options.task === 'upscale') {
    if (options.upscaleFactor === undefined) throw rejected('upscale needs a factor, and the call has none');
    if (options.n !== 1) throw new RangeError(`an upscale makes one image, not ${options.n}`);
    return {
      endpoint: 'extra-single-image',
      body: buildUpscaleRequest(image, options.upscaleFactor, entry),
    };
  }
  throw rejected(`A1111 cannot do ${options.task}`);
}

/**
 * A1111 answers an init image it cannot decode with a 500 "Invalid encoded image": the image's fault, so
 * rejected (no retry, no fallback to another server that would refuse it the same way), not unavailable.
 */
function refusedImage(status: number, body: unknown): 'rejected' | undefined {
  const detail = (body as { detail?: unknown } | null)?.detail;
  return status === 500 && detail === 'Invalid encoded image' ? 'rejected' : undefined;
}

function rejected(message: string): ProviderCallError {
  return new ProviderCallError('rejected', message, { provider });
}

/**
 * Whether the server answers `GET /sdapi/v1/sd-models` (cheap: no GPU work) and, when the entry names a
 * checkpoint, whether the server has it. Never throws; a missing auth variable is reported as not ready.
 */
export async function probeAutomatic1111(
  settings: Pick<Automatic1111ImageModelSettings, 'baseUrl' | 'vendorModel' | 'options' | 'env' | 'fetch'> & {
    timeoutMs?: number;
  },
): Promise<ProbeResult> {
  const root = trimTrailingSlashes(settings.baseUrl);
  try {
    const headers = authHeaders(settings.options, settings.env ?? process.env);
    const answer = await requestJson({
      provider,
      method: 'GET',
      url: `${root}/sdapi/v1/sd-models`,
      headers,
      signal: AbortSignal.timeout(settings.timeoutMs ?? defaultProbeTimeoutMs),
      fetch: settings.fetch,
    });
    const checkpoints = parseSdModels(answer);
    if (!checkpoints)
      return { ready: false, detail: 'GET /sdapi/v1/sd-models did not answer a list of checkpoints' };
    const wanted = settings.vendorModel;
    if (wanted !== undefined && !checkpoints.some((checkpoint) => namesCheckpoint(wanted, checkpoint))) {
      return { ready: false, detail: `the server has no checkpoint "${wanted}"` };
    }
    return {
      ready: true,
      detail: `${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'} on the server`,
    };
  } catch (error) {
    if (error instanceof ProviderCallError) return { ready: false, detail: error.message };
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      ready: false,
      detail: timedOut ? 'no answer from GET /sdapi/v1/sd-models in time' : String(error),
    };
  }
}

/** A1111 accepts a checkpoint by title (`name.safetensors [hash]`), by title without the hash, or by name. */
function namesCheckpoint(wanted: string, checkpoint: { title: string; model_name: string }): boolean {
  const titleWithoutHash = checkpoint.title.replace(/ \[[0-9a-f]+\]$/i, '');
  return wanted === checkpoint.title || wanted === titleWithoutHash || wanted === checkpoint.model_name;
}

/**
 * The Basic auth header for `--api-auth`, read now rather than at start-up so a variable set later is seen.
 * A variable the entry names but the environment lacks is the operator's to fix, and its name is said.
 */
function authHeaders(options: Automatic1111Options, env: EnvironmentVariables): Record<string, string> {
  const { username_env: usernameVariable, password_env: passwordVariable } = options;
  if (usernameVariable === undefined || passwordVariable === undefined) return {};
  const username = readSecret(env, usernameVariable, provider);
  const password = readSecret(env, passwordVariable, provider);
  return { authorization: basicAuthorization(username, password) };
}

/** The nearest size the entry allows, or the asked one rounded to a multiple of 8. */
function renderSize(asked: ImageDimensions, sizes: readonly ImageDimensions[] | undefined): ImageDimensions {
  if (sizes && sizes.length > 0) return nearestOpenAISize(asked, sizes);
  return { width: roundSide(asked.width), height: roundSide(asked.height) };
}

function roundSide(side: number): number {
  return Math.max(smallestSide, Math.round(side / sideStep) * sideStep);
}

/** What a ProgressPoll needs: where to ask, how often, and whom to tell. */
interface ProgressPollSettings {
  root: string;
  headers: Record<string, string>;
  fetch: typeof globalThis.fetch | undefined;
  intervalMs: number;
  onProgress: (progress: number) => void;
}

/**
 * Polls progress until stopped; reports only rising values below 1 (the result itself reports 1). Nothing
 * but a timer exists until the first poll is due: a fast GPU answers most calls before then, and an
 * AbortController (with the AbortError its abort builds) per call was a measurable share of the adapter's
 * CPU in `npm run bench -- --selfhosted`. A class, not closures: under tsx (`npm start`, the bench) each
 * named closure is wrapped in esbuild's `__name`, ~0.7 µs apiece per call.
 */
class ProgressPoll {
  readonly #settings: ProgressPollSettings;
  #stopped = false;
  #reported = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The poll in flight, cut short by stop(). */
  #inFlight: AbortController | undefined;

  constructor(settings: ProgressPollSettings) {
    this.#settings = settings;
    this.#timer = setTimeout(() => this.#poll(), settings.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#inFlight?.abort();
  }

  async #poll(): Promise<void> {
    const settings = this.#settings;
    const inFlight = new AbortController();
    this.#inFlight = inFlight;
    const answer = await requestJson({
      provider,
      method: 'GET',
      url: `${settings.root}/sdapi/v1/progress?skip_current_image=true`,
      headers: settings.headers,
      signal: AbortSignal.any([inFlight.signal, AbortSignal.timeout(sideCallTimeoutMs)]),
      fetch: settings.fetch,
      // A poll that fails is skipped; the next one is still due.
    }).catch(() => undefined);
    this.#inFlight = undefined;
    // Checked after the await: nothing is reported once the call has settled.
    if (this.#stopped) return;
    const progress = parseProgress(answer);
    if (progress && !progress.idle && progress.progress > this.#reported && progress.progress < 1) {
      this.#reported = progress.progress;
      settings.onProgress(progress.progress);
    }
    this.#timer = setTimeout(() => this.#poll(), settings.intervalMs);
  }
}

/**
 * Asks the server to stop the render, awaited (briefly) so it has been asked before the caller hears of
 * the cancel. A1111 interrupts whatever it is rendering: on a box shared with other clients that may be
 * someone else's job, which is why the README advises giving imagine the box to itself.
 */
async function interrupt(
  root: string,
  headers: Record<string, string>,
  fetch: typeof globalThis.fetch | undefined,
  logger: Logger | undefined,
): Promise<void> {
  try {
    await requestJson({
      provider,
      method: 'POST',
      url: `${root}/sdapi/v1/interrupt`,
      headers,
      signal: AbortSignal.timeout(sideCallTimeoutMs),
      fetch,
    });
    logger?.info({ provider }, 'A1111 render interrupted');
  } catch (error) {
    logger?.warn({ err: error, provider }, 'interrupting the A1111 render failed');
  }
}

function warningsFor(
  options: ImageModelCallOptions,
  size: ImageDimensions,
  images: readonly GeneratedImage[],
): GenerationWarning[] {
  const warnings: GenerationWarning[] = [];
  if (size.width !== options.size.width || size.height !== options.size.height) {
    warnings.push({
      type: 'mapped',
      feature: 'size',
      detail: `${formatSize(options.size)} → ${formatSize(size)}`,
    });
  }
  const usedSeed = images[0]?.seed;
  if (options.seed !== undefined && usedSeed !== undefined && usedSeed !== options.seed) {
    warnings.push({ type: 'mapped', feature: 'seed', detail: `${options.seed} → ${usedSeed}` });
  }
  if (images.length < options.n) {
    warnings.push({
      type: 'other',
      feature: 'n',
      detail: `asked for ${options.n} images, A1111 returned ${images.length}`,
    });
  }
  return warnings;
}

/** An upscale that did not come back at the input's size times the factor (an upscaler with a fixed scale). */
function upscaleWarnings(
  options: ImageModelCallOptions,
  images: readonly GeneratedImage[],
): GenerationWarning[] {
  const source = options.inputImages?.[0];
  const produced = images[0]?.dimensions;
  if (!source || !produced || options.upscaleFactor === undefined) return [];
  const expected = {
    width: source.width * options.upscaleFactor,
    height: source.height * options.upscaleFactor,
  };
  if (produced.width === expected.width && produced.height === expected.height) return [];
  return [{ type: 'mapped', feature: 'size', detail: `${formatSize(expected)} → ${formatSize(produced)}` }];
}

function formatSize(size: ImageDimensions): string {
  return `${size.width}x${size.height}`;
}
