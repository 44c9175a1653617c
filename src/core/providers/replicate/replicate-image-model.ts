import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import Replicate from 'replicate';
import { z } from 'zod';
import { callWithRetries, defaultRetryPolicy, type RetryPolicy } from '../call-with-retries.ts';
import type {
  GenerationWarning,
  ImageDimensions,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
  InputImage,
} from '../image-model.ts';
import type { ModelDescriptor } from '../model-catalog.ts';
import { ProviderCallError } from '../provider-error.ts';
import { type DownloadRules, downloadImage } from '../safe-download.ts';
import { isFinished, outputUrls, parsePrediction, type ReplicatePrediction } from './replicate-api.ts';
import { classifyFailedPrediction, classifyReplicateError } from './replicate-error.ts';
import {
  buildReplicateInput,
  checkReplicateTask,
  isKnownReplicateModel,
  type ReplicateInput,
  replicateModelVersion,
} from './replicate-options.ts';
import { progressFromLogs } from './replicate-progress.ts';

/** What a Replicate model needs; the token is checked at call time, so a missing one names the variable. */
export interface ReplicateImageModelSettings {
  apiToken: string | undefined;
  /** The variable to name when the token is missing (REPLICATE_API_TOKEN, or the entry's `api_key_env`). */
  tokenVariable?: string;
  descriptor: ModelDescriptor;
  retryPolicy?: RetryPolicy;
  downloadRules?: Partial<DownloadRules>;
  /** Between polls of a prediction that `Prefer: wait` did not see finish (default 1 s). */
  pollIntervalMs?: number;
  /** How long Replicate may hold the create request open (`Prefer: wait`, default and most 60 s). */
  waitSeconds?: number;
  now?: () => Date;
  logger?: Logger;
}

/**
 * Hosts Replicate serves prediction outputs from: `replicate.delivery` (paths like `/xezq/…`, `/pbxt/…`)
 * and the older `pbxt.replicate.delivery`. Not `weights.replicate.delivery`, which serves model weights.
 */
export const replicateOutputHosts: readonly string[] = ['replicate.delivery', 'pbxt.replicate.delivery'];

type DownloadedImage = Awaited<ReturnType<typeof downloadImage>>;

const provider = 'replicate';
/** Replicate holds a `Prefer: wait` request open for 60 s at most. */
const longestWaitSeconds = 60;
/** Room left in an attempt after Replicate's wait, for the answer to arrive before the attempt times out. */
const waitMarginSeconds = 5;
const defaultPollIntervalMs = 1000;
const defaultMaxBytes = 20 * 1024 * 1024;
const cancelTimeoutMs = 10_000;
/**
 * Input images up to this size go inline as data URIs; larger ones are uploaded (`POST /v1/files`) and
 * passed by URL, as Replicate recommends data URIs only under 1 MB (750 kB of bytes is 1 MB of base64).
 */
const inlineImageBytes = 750_000;
/** How far a rendered side may be from the asked one before the caller hears about it. */
const sizeTolerance = 0.1;

/**
 * A model on Replicate: the official Flux models by name, Real-ESRGAN by its pinned version. Input images
 * go inline as data URIs, or uploaded first when large. It creates a prediction with `Prefer: wait`, polls
 * it if the wait ran out, and downloads the output images from Replicate's delivery hosts at once (the
 * links expire in an hour). Retries keep the prediction they have: a failed poll or a timed-out
 * attempt resumes it, and only a prediction that failed for a transient reason is replaced. A prediction
 * still running when the call gives up (the caller aborted, the deadline passed) is canceled.
 */
export function createReplicateImageModel(settings: ReplicateImageModelSettings): ImageModel {
  const { descriptor, logger } = settings;
  const vendorModel = descriptor.providerModel;
  if (
    descriptor.provider !== 'replicate' ||
    vendorModel === undefined ||
    !isKnownReplicateModel(vendorModel)
  ) {
    throw new Error(`${descriptor.id} is not a Replicate model this provider can call`);
  }
  const tokenVariable = settings.tokenVariable ?? 'REPLICATE_API_TOKEN';
  const policy = settings.retryPolicy ?? defaultRetryPolicy;
  const now = settings.now ?? (() => new Date());
  const pollIntervalMs = settings.pollIntervalMs ?? defaultPollIntervalMs;
  const configuredWaitSeconds = settings.waitSeconds ?? longestWaitSeconds;
  const rules: DownloadRules = {
    allowedHosts: replicateOutputHosts,
    maxBytes: defaultMaxBytes,
    ...settings.downloadRules,
    provider,
  };

  return {
    provider,
    modelId: descriptor.id,
    maxImagesPerCall: descriptor.maxImagesPerCall,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      const apiToken = settings.apiToken;
      if (!apiToken) throw new ProviderCallError('credentials', `${tokenVariable} is not set`, { provider });
      if (!Number.isInteger(options.n) || options.n < 1 || options.n > descriptor.maxImagesPerCall) {
        // The core splits requests by maxImagesPerCall, so this is a caller's bug, not a user's mistake.
        throw new RangeError(
          `${descriptor.id} takes 1 to ${descriptor.maxImagesPerCall} images a call, not ${options.n}`,
        );
      }
      checkReplicateTask(vendorModel, options);
      const imageUrls = await imageReferences(apiToken, options, policy, now);
      const { input, warnings } = buildReplicateInput(vendorModel, options, imageUrls);
      const startedAt = performance.now();
      // A prediction a crashed process started is followed, not started again (and not paid twice).
      let prediction: ReplicatePrediction | undefined =
        options.resumeProviderRequestId === undefined
          ? undefined
          : { id: options.resumeProviderRequestId, status: 'starting' };

      const attempt = async (signal: AbortSignal) => {
        let current = prediction;
        if (current === undefined || (isFinished(current) && current.status !== 'succeeded')) {
          const waitSeconds = waitSecondsFor(configuredWaitSeconds, policy, performance.now() - startedAt);
          current = await createPrediction(apiToken, vendorModel, input, waitSeconds, signal);
          prediction = current;
          options.onProviderRequest?.(current.id);
          logger?.debug({ model: descriptor.id, predictionId: current.id }, 'Replicate prediction created');
        }
        while (!hasImages(current, options.n)) {
          if (isFinished(current)) throw failureOf(current);
          await sleep(pollIntervalMs, undefined, { signal });
          current = await getPrediction(apiToken, current.id, signal);
          prediction = current;
          const progress = progressFromLogs(current.logs);
          if (progress !== undefined) options.onProgress?.(progress);
        }
        const urls = outputUrls(current);
        const images = await Promise.all(urls.map((url) => downloadImage(url, rules, signal)));
        return { finished: current, images };
      };

      let outcome: Awaited<ReturnType<typeof attempt>>;
      try {
        outcome = await callWithRetries(attempt, {
          policy,
          classify: (error) => classifyReplicateError(error, now()),
          abortSignal: options.abortSignal,
          onRetry: (error, attemptNumber) =>
            logger?.warn(
              { err: error, model: descriptor.id, attempt: attemptNumber, predictionId: prediction?.id },
              'Replicate call failed; trying again',
            ),
        });
      } catch (error) {
        if (prediction && isStillRunning(prediction)) cancelInBackground(apiToken, prediction.id, logger);
        throw error;
      }

      const { finished, images } = outcome;
      warnings.push(...outputWarnings(options, images, descriptor.id));
      logger?.debug(
        {
          model: descriptor.id,
          predictionId: finished.id,
          predictTime: finished.metrics?.predict_time,
          warnings,
        },
        'Replicate prediction done',
      );
      return {
        images: images.map(({ bytes, mediaType, width, height }) => ({
          bytes,
          mediaType,
          dimensions: { width, height },
        })),
        warnings,
        response: {
          modelId: descriptor.id,
          timestamp: now(),
          providerRequestId: finished.id,
          revisedPrompt: undefined,
        },
        usage: { costUsd: descriptor.priceUsd(options.size, options.quality) * images.length },
      };
    },
  };
}

/**
 * The `replicate` client retries by itself: 429 and 5xx on GETs, 429 on POSTs, and any error fetch throws
 * (POSTs included) up to five times, ignoring Retry-After. Each client gets a fetch that makes one real
 * exchange and replays its outcome, so retrying is callWithRetries' alone and a dropped connection never
 * creates a second prediction behind our back.
 */
function singleExchangeFetch(): (input: Request | string | URL, init?: RequestInit) => Promise<Response> {
  let outcome: Promise<Response> | undefined;
  return (input, init) => {
    outcome ??= fetch(input, init);
    return outcome.then((response) => response.clone());
  };
}

/** A client good for one API exchange (see singleExchangeFetch). */
function oneExchangeClient(auth: string): Replicate {
  return new Replicate({ auth, fetch: singleExchangeFetch(), useFileOutput: false });
}

async function createPrediction(
  auth: string,
  model: string,
  input: ReplicateInput,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<ReplicatePrediction> {
  // `wait: n` sends `Prefer: wait=n`; `false` sends no Prefer header, and we poll from the start. An
  // official model is run by name (`/v1/models/{owner}/{name}/predictions`), a community one by its
  // pinned version (`/v1/predictions`).
  const version = replicateModelVersion(model);
  const created = await oneExchangeClient(auth).predictions.create({
    ...(version === undefined ? { model } : { version }),
    input,
    wait: waitSeconds >= 1 ? waitSeconds : false,
    signal,
  });
  return parsePrediction(created);
}

/**
 * The call's input images as Replicate takes them, in order: a data URI for a small one, the URL of an
 * uploaded file for a larger one (each upload one exchange, retried as a prediction would be).
 */
async function imageReferences(
  auth: string,
  options: ImageModelCallOptions,
  policy: RetryPolicy,
  now: () => Date,
): Promise<string[]> {
  return Promise.all(
    (options.inputImages ?? []).map((image) =>
      image.bytes.byteLength <= inlineImageBytes
        ? dataUri(image)
        : callWithRetries((signal) => uploadImage(auth, image, signal), {
            policy,
            classify: (error) => classifyReplicateError(error, now()),
            abortSignal: options.abortSignal,
          }),
    ),
  );
}

function dataUri(image: InputImage): string {
  return `data:${image.mediaType};base64,${Buffer.from(image.bytes).toString('base64')}`;
}

const uploadSchema = z.object({ urls: z.object({ get: z.url() }) });

async function uploadImage(auth: string, image: InputImage, signal: AbortSignal): Promise<string> {
  const extension = image.mediaType.slice('image/'.length);
  const file = new File([image.bytes], `input.${extension}`, { type: image.mediaType });
  const uploaded = uploadSchema.safeParse(await oneExchangeClient(auth).files.create(file, {}, { signal }));
  if (!uploaded.success) {
    throw new ProviderCallError('malformed', 'Replicate answered a file upload without its URL', {
      provider,
    });
  }
  return uploaded.data.urls.get;
}

async function getPrediction(auth: string, id: string, signal: AbortSignal): Promise<ReplicatePrediction> {
  return parsePrediction(await oneExchangeClient(auth).predictions.get(id, { signal }));
}

/** Best effort: a prediction nobody will collect should not keep running (and costing). Never awaited. */
function cancelInBackground(auth: string, id: string, logger: Logger | undefined): void {
  oneExchangeClient(auth)
    .predictions.cancel(id, { signal: AbortSignal.timeout(cancelTimeoutMs) })
    .then(
      () => logger?.info({ predictionId: id }, 'Replicate prediction canceled'),
      (error: unknown) =>
        logger?.warn({ err: error, predictionId: id }, 'canceling a Replicate prediction failed'),
    );
}

/**
 * How long Replicate may hold the create request: what was configured, at most 60 s, and short enough to
 * answer inside this attempt and before the deadline. Under a second means no wait at all (poll instead).
 */
function waitSecondsFor(configured: number, policy: RetryPolicy, elapsedMs: number): number {
  const budgetMs = Math.min(policy.attemptTimeoutMs, policy.deadlineMs - elapsedMs);
  const seconds = Math.min(configured, longestWaitSeconds, Math.floor(budgetMs / 1000) - waitMarginSeconds);
  return Math.max(0, Math.floor(seconds));
}

/**
 * Whether the prediction's images can be fetched: it succeeded with output, or (sync mode) it is still
 * `processing` but already lists every image asked for, as Replicate does while it finalises a prediction.
 */
function hasImages(prediction: ReplicatePrediction, asked: number): boolean {
  const count = outputUrls(prediction).length;
  if (prediction.status === 'succeeded') return count > 0;
  return prediction.status === 'processing' && count === asked;
}

function isStillRunning(prediction: ReplicatePrediction): boolean {
  return !isFinished(prediction) && outputUrls(prediction).length === 0;
}

function failureOf(prediction: ReplicatePrediction): ProviderCallError {
  if (prediction.status !== 'succeeded') return classifyFailedPrediction(prediction);
  return new ProviderCallError(
    'malformed',
    `Replicate prediction ${prediction.id} succeeded without output`,
    {
      provider,
    },
  );
}

/**
 * Fewer images than asked (a safety checker may drop some), or a size far from the one expected: the asked
 * size for a text-to-image call, the input times the factor for an upscale. An image-to-image or an edit
 * keeps its input's shape, so its size is not compared.
 */
function outputWarnings(
  options: ImageModelCallOptions,
  images: readonly DownloadedImage[],
  modelId: string,
): GenerationWarning[] {
  const warnings: GenerationWarning[] = [];
  if (images.length < options.n) {
    warnings.push({
      type: 'other',
      feature: 'n',
      detail: `asked for ${options.n} images, Replicate returned ${images.length}`,
    });
  }
  const expected = expectedSize(options);
  const first = images[0];
  if (expected && first && (farFrom(first.width, expected.width) || farFrom(first.height, expected.height))) {
    const why =
      options.task === 'upscale'
        ? `${modelId} did not enlarge by ${options.upscaleFactor}`
        : 'Flux renders about one megapixel';
    warnings.push({
      type: 'mapped',
      feature: 'size',
      detail: `${formatSize(expected)} → ${formatSize(first)}: ${why}`,
    });
  }
  return warnings;
}

function expectedSize(options: ImageModelCallOptions): ImageDimensions | undefined {
  if (options.task === 'text_to_image') return options.size;
  const source = options.inputImages?.[0];
  if (options.task !== 'upscale' || !source || options.upscaleFactor === undefined) return undefined;
  return { width: source.width * options.upscaleFactor, height: source.height * options.upscaleFactor };
}

function farFrom(rendered: number, asked: number): boolean {
  return Math.abs(rendered - asked) > asked * sizeTolerance;
}

function formatSize(size: ImageDimensions): string {
  return `${size.width}x${size.height}`;
}
