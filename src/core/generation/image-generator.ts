import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Caller } from '../accounts/user-accounts.ts';
import type { GenerationFailure } from '../admin/generation-failures.ts';
import { newRecordId } from '../database/record-id.ts';
import { ImagineError, validationError } from '../errors/imagine-error.ts';
import { isStorageFailure, storageUnavailable } from '../errors/storage-unavailable.ts';
import {
  type EnhancedPrompt,
  enhancePrompt,
  type PromptEnhancementInput,
} from '../prompt/prompt-enhancer.ts';
import type {
  GeneratedImage,
  GenerationWarning,
  ImageDimensions,
  InputImage,
  ModelCapability,
} from '../providers/image-model.ts';
import { type ImageModelRegistry, splitIntoCalls } from '../providers/image-model-registry.ts';
import type { ModelDescriptor } from '../providers/model-catalog.ts';
import { ProviderCallError, toImagineError } from '../providers/provider-error.ts';
import type { PlanDefinition } from '../quota/plans.ts';
import type { Reservation, UsageSummary } from '../quota/quota-accounting.ts';
import { extensionOfMediaType, type ImageStorage, imageKey } from '../storage/image-storage.ts';
import { findStylePreset, type StylePreset } from '../styles/style-presets.ts';
import type { GenerationJob } from './generation-job.ts';
import type {
  GenerationKind,
  GenerationRecord,
  GenerationRecords,
  GenerationSource,
} from './generation-records.ts';
import {
  type BatchRequest,
  type BatchRequestInput,
  batchRequestSchema,
  defaultStrength,
  type ImageRequest,
  type ImageRequestInput,
  imageRequestSchema,
  maximumBatchImages,
  parseRequest,
  type UpscaleRequest,
  upscaleRequestSchema,
  type VariationRequest,
  variationRequestSchema,
  variationStrengths,
} from './generation-request.ts';
import type { GenerationWrites } from './generation-writes.ts';
import {
  type AspectRatio,
  aspectRatioOf,
  formatSize,
  maximumSide,
  parseSize,
  resolveDimensions,
} from './image-dimensions.ts';
import { embedParameters } from './image-parameters.ts';
import { type InputImageDownload, type InputImageRules, readInputImage } from './input-image.ts';
import { generateAlongRoute, highestPriceUsd, type ModelRoute, resolveModelRoute } from './model-route.ts';

/** Who is generating, through which door, and the caller's cancel signal. */
export interface GenerationContext {
  caller: Caller;
  /** A Discord server's or Slack workspace's shared monthly cap, when the operator set one. */
  scope: { key: string; limit: number } | undefined;
  source: GenerationSource;
  abortSignal: AbortSignal | undefined;
  /** The durable job this generation runs as, when it runs as one (its quota hold is tagged with it). */
  job?: GenerationJob | undefined;
  /** Skip the operator's blocklist (NSFW_POLICY lets a chat place relax it); other moderation still runs. */
  relaxBlocklist?: boolean | undefined;
  /** A counter the charge is also added to (a chat place's images per person); see `ReservationRequest`. */
  tally?: string | undefined;
}

/** One delivered image: stored, charged and recorded. */
export interface GeneratedImageResult {
  id: string;
  /** The stored bytes, still in memory: chat transports attach them without reading storage back. */
  bytes: Uint8Array;
  storageKey: string;
  batchId: string | undefined;
  imageUrl: string;
  model: string;
  seed: number | undefined;
  size: ImageDimensions;
  quality: 'standard' | 'high';
  prompt: string;
  promptUsed: string;
  negativePrompt: string | undefined;
  style: string | undefined;
  costUsd: number;
  generationSeconds: number;
  createdAt: Date;
  warnings: GenerationWarning[];
  revisedPrompt: string | undefined;
  contentType: string;
  /** The stored image it was made from (a variation, remix, upscale), if any. */
  parentId: string | undefined;
  /** How it was made from an input image; undefined for text-to-image. */
  kind: GenerationKind | undefined;
}

/** An image of a batch that was not produced, and why. */
export interface BatchFailure {
  index: number;
  error: ImagineError;
}

/** What a generation produced; `usage` is the caller's standing after it was charged. */
export interface GenerationOutcome {
  images: GeneratedImageResult[];
  failures: BatchFailure[];
  totalCostUsd: number;
  generationSeconds: number;
  usage: UsageSummary;
}

/** Everything the generator works with; tests pass their own clock, seeds and stand-ins. */
export interface ImageGeneratorDependencies {
  /** The request path's writes (hold, charge and record, release), grouped into shared commits. */
  writes: GenerationWrites;
  records: GenerationRecords;
  storage: ImageStorage;
  models: ImageModelRegistry;
  /** Refuses a prompt by throwing `content_policy_violation` (a blocklist, then OpenAI moderation). */
  moderator: {
    check(prompt: string, options?: { relaxBlocklist?: boolean | undefined }): void | Promise<void>;
  };
  /** OUTPUT_MODERATION: checks each generated image before it is stored; throws to withhold it. */
  outputModerator?: { check(image: GeneratedImage): Promise<void> } | undefined;
  /** Rule-based by default; an LLM rewrite when the operator turns it on. */
  promptEnhancer?: { enhance(input: PromptEnhancementInput): EnhancedPrompt | Promise<EnhancedPrompt> };
  defaultModel: string;
  /** Models tried in order when the chosen one's provider is unavailable. */
  fallbackModels?: readonly string[];
  /** The models for image-to-image and upscales when a request names none (IMAGE_TO_IMAGE_MODEL, UPSCALE_MODEL). */
  taskDefaultModels?: Partial<Record<ModelCapability, string | undefined>>;
  /** What an input image may be (MAX_INPUT_IMAGE_BYTES, INPUT_IMAGE_HOSTS); without it, none is fetched. */
  inputImages?: InputImageRules;
  /** Stored images carry their parameters (PNG_METADATA; default on). */
  embedParameters?: boolean;
  /** The operator's `MAX_BATCH_SIZE` (1–4). */
  maxBatchSize?: number;
  monthlyBudgetUsd: number | undefined;
  /** Refuses new work with 503 `storage_unavailable` while the disk under DATA_DIR is too full to take it. */
  disk?: { assertWritable(): void };
  /** Where failed model calls are noted, for the operator console's failure rates. */
  failures?: { record(failure: GenerationFailure): void };
  logger: Logger;
  now?: () => Date;
  randomSeed?: () => number;
}

/** The settings every image of one request shares, resolved and checked before any quota is held. */
interface PreparedRequest {
  route: ModelRoute;
  size: ImageDimensions;
  aspectRatio: AspectRatio | undefined;
  quality: 'standard' | 'high';
  style: StylePreset | undefined;
  batchId: string | undefined;
  /** The image the request works from, and how; undefined for text-to-image. */
  source: ImageSource | undefined;
  relaxBlocklist: boolean;
}

/** What a request derives from: its input image, the task and the knob for it, and the lineage to record. */
interface ImageSource {
  task: Exclude<ModelCapability, 'text_to_image'>;
  image: InputImage;
  strength: number | undefined;
  upscaleFactor: number | undefined;
  parentId: string | undefined;
  kind: GenerationKind;
  /** What the caller asked for that this way of using the image cannot honour. */
  warnings: GenerationWarning[];
}

/** The largest side an upscale may produce: 8192² RGBA is 256 MB, about what one request should hold. */
const maximumUpscaledSide = 8192;

/** One provider call: `n` images of one prompt. `firstIndex` places them in the batch. */
interface PlannedCall {
  firstIndex: number;
  n: number;
  prompt: string;
  promptUsed: string;
  negativePrompt: string | undefined;
  /** Whether the caller wrote a negative prompt (not only the style's): only then is ignoring it news. */
  userNegativePrompt: boolean;
  seeds: (number | undefined)[];
}

interface ProducedImage {
  index: number;
  call: PlannedCall;
  image: GeneratedImage;
  /** The model that served it (a fallback, perhaps) and the pixels it produced. */
  descriptor: ModelDescriptor;
  size: ImageDimensions;
  seed: number | undefined;
  costUsd: number;
  warnings: GenerationWarning[];
  providerRequestId: string | undefined;
  revisedPrompt: string | undefined;
  elapsedMs: number;
}

const maximumSeed = 4_294_967_295;

/**
 * The one pipeline every front door calls: validate → moderate → enhance → check the plan → reserve quota →
 * generate → store → settle and record. A hold on quota always ends committed (for what was delivered) or
 * released; an image is stored only to be recorded, and removed again if recording fails.
 */
export class ImageGenerator {
  readonly #dependencies: ImageGeneratorDependencies;
  readonly #now: () => Date;
  readonly #randomSeed: () => number;
  readonly #routes = new Map<string, ModelRoute>();

  constructor(dependencies: ImageGeneratorDependencies) {
    this.#dependencies = dependencies;
    this.#now = dependencies.now ?? (() => new Date());
    // A seed is a handle for reproducing an image, not a secret: Math.random is uniform enough and far cheaper.
    this.#randomSeed = dependencies.randomSeed ?? (() => Math.floor(Math.random() * 2 ** 31));
  }

  /** One image. Throws the coded error when it cannot be delivered. */
  async generate(input: ImageRequestInput | unknown, context: GenerationContext): Promise<GenerationOutcome> {
    return this.generateValidated(parseRequest(imageRequestSchema, input), context);
  }

  /**
   * `generate` for a request already parsed with `imageRequestSchema` (the HTTP layer validates bodies
   * with that very schema), so it is not parsed twice.
   */
  async generateValidated(request: ImageRequest, context: GenerationContext): Promise<GenerationOutcome> {
    const prepared = this.#prepare(request, context, undefined, await this.#requestSource(request, context));
    const calls = await this.#planCalls([request.prompt], 1, request, prepared);
    return this.#run(calls, prepared, context);
  }

  /**
   * 1–4 images: `num_images` of one prompt or one per `prompts` entry, generated concurrently. Quota for all
   * of them is held first; only images delivered are charged. Throws only when none could be delivered.
   */
  async generateBatch(
    input: BatchRequestInput | unknown,
    context: GenerationContext,
  ): Promise<GenerationOutcome> {
    return this.generateBatchValidated(parseRequest(batchRequestSchema, input), context);
  }

  /** `generateBatch` for a request already parsed with `batchRequestSchema`. */
  async generateBatchValidated(
    request: BatchRequest,
    context: GenerationContext,
  ): Promise<GenerationOutcome> {
    const prompts = request.prompts ?? [request.prompt ?? ''];
    const imagesPerPrompt = request.prompts ? 1 : (request.num_images ?? 1);
    const most = this.#dependencies.maxBatchSize ?? maximumBatchImages;
    if (prompts.length * imagesPerPrompt > most) {
      const field = request.prompts ? 'prompts' : 'num_images';
      throw validationError([{ field, message: `at most ${most} images per batch on this server` }]);
    }
    const source = await this.#requestSource(request, context);
    const prepared = this.#prepare(request, context, randomUUID(), source);
    const calls = await this.#planCalls(prompts, imagesPerPrompt, request, prepared);
    return this.#run(calls, prepared, context);
  }

  /**
   * A variation of one of the caller's stored images (image-to-image from it, at the strength asked), or a
   * remix when a new prompt is given. Another user's image, or none, is a 404.
   */
  async vary(imageId: string, input: unknown, context: GenerationContext): Promise<GenerationOutcome> {
    return this.varyValidated(imageId, parseRequest(variationRequestSchema, input), context);
  }

  /** `vary` for a request already parsed with `variationRequestSchema`; `owner` whose image it is (the caller's by default). */
  async varyValidated(
    imageId: string,
    request: VariationRequest,
    context: GenerationContext,
    owner: string = context.caller.userId,
  ): Promise<GenerationOutcome> {
    const { record, image } = await this.#storedImage(owner, imageId);
    const strength =
      typeof request.strength === 'number' ? request.strength : variationStrengths[request.strength];
    const source: ImageSource = {
      task: 'image_to_image',
      image,
      strength,
      upscaleFactor: undefined,
      parentId: record.id,
      kind: request.prompt === undefined ? 'variation' : 'remix',
      warnings: [],
    };
    // The source's own shape, within what a generation may be asked for (an upscale may be larger).
    const shrink = Math.min(1, maximumSide / Math.max(record.width, record.height));
    const size = formatSize({
      width: Math.round(record.width * shrink),
      height: Math.round(record.height * shrink),
    });
    const derived = {
      prompt: request.prompt ?? record.prompt,
      size,
      style: record.style,
      quality: record.quality,
      enhance_prompt: true,
    };
    const prepared = this.#prepare(derived, context, undefined, source);
    const calls = await this.#planCalls([derived.prompt], 1, derived, prepared);
    return this.#run(calls, prepared, context);
  }

  /** A stored image of the caller's enlarged `factor` times each side; its prompt and seed go with it. */
  async upscale(imageId: string, input: unknown, context: GenerationContext): Promise<GenerationOutcome> {
    return this.upscaleValidated(imageId, parseRequest(upscaleRequestSchema, input), context);
  }

  /** `upscale` for a request already parsed with `upscaleRequestSchema`; `owner` as for `varyValidated`. */
  async upscaleValidated(
    imageId: string,
    request: UpscaleRequest,
    context: GenerationContext,
    owner: string = context.caller.userId,
  ): Promise<GenerationOutcome> {
    const { record, image } = await this.#storedImage(owner, imageId);
    const size = { width: image.width * request.factor, height: image.height * request.factor };
    if (Math.max(size.width, size.height) > maximumUpscaledSide) {
      throw validationError([
        {
          field: 'factor',
          message: `${image.width}x${image.height} × ${request.factor} is over ${maximumUpscaledSide} pixels a side`,
        },
      ]);
    }
    const source: ImageSource = {
      task: 'upscale',
      image,
      strength: undefined,
      upscaleFactor: request.factor,
      parentId: record.id,
      kind: 'upscale',
      warnings: [],
    };
    const prepared = this.#prepare(
      { size: formatSize(size), style: record.style, quality: record.quality },
      context,
      undefined,
      source,
    );
    // The same picture, larger: its prompt was moderated when it was made, and is not rewritten again.
    const calls: PlannedCall[] = [
      {
        firstIndex: 0,
        n: 1,
        prompt: record.prompt,
        promptUsed: record.promptUsed,
        negativePrompt: record.negativePrompt,
        userNegativePrompt: false,
        seeds: [record.seed],
      },
    ];
    return this.#run(calls, prepared, context);
  }

  /** The `image` of a generate request, read and checked before anything is held; undefined without one. */
  async #requestSource(
    request: { image?: string | undefined; strength?: number | undefined; model?: string | undefined },
    context: GenerationContext,
  ): Promise<ImageSource | undefined> {
    if (request.image === undefined) {
      if (request.strength !== undefined)
        throw validationError([{ field: 'strength', message: 'strength needs an image' }]);
      return undefined;
    }
    // A model that cannot take an image is refused before the image is fetched or decoded.
    const task = this.#imageTask(request.model, context.caller.plan);
    const image = await this.readInputImage(request.image, {}, context.abortSignal);
    return {
      task,
      image,
      // An edit has no strength: the prompt is the instruction, the image its reference.
      strength: task === 'edit' ? undefined : (request.strength ?? defaultStrength),
      upscaleFactor: undefined,
      parentId: undefined,
      kind: 'image_to_image',
      warnings:
        task === 'edit' && request.strength !== undefined
          ? [
              {
                type: 'unsupported',
                feature: 'strength',
                detail:
                  'This model edits an image by the prompt rather than redrawing it; strength was not used.',
              },
            ]
          : [],
    };
  }

  /**
   * Reads an input image under the operator's rules (MAX_INPUT_IMAGE_BYTES, INPUT_IMAGE_HOSTS), plus what
   * one front door adds for its own uploads; a 422 on `image` when it cannot be used. Nothing is held.
   */
  readInputImage(
    image: string,
    download: InputImageDownload,
    signal: AbortSignal | undefined,
  ): Promise<InputImage> {
    const rules = this.#dependencies.inputImages ?? { maxBytes: 10 * 1024 * 1024, allowedHosts: [] };
    return readInputImage(image, rules, signal, 'image', download);
  }

  /** The most bytes an input image may have (MAX_INPUT_IMAGE_BYTES). */
  get maxInputImageBytes(): number {
    return this.#dependencies.inputImages?.maxBytes ?? 10 * 1024 * 1024;
  }

  /**
   * How a request's image is used: redrawn (image_to_image) where the route can, else edited (the prompt
   * as the instruction) by a model that only edits, such as gpt-image-1. A model that can do neither is a
   * 422 `unsupported_by_model` naming every model that could take the image.
   */
  #imageTask(requested: string | undefined, plan: PlanDefinition): 'image_to_image' | 'edit' {
    try {
      this.#routeFor(requested, plan, 'image_to_image');
      return 'image_to_image';
    } catch (error) {
      if (!isUnsupported(error)) throw error;
      try {
        this.#routeFor(requested, plan, 'edit');
        return 'edit';
      } catch (editError) {
        if (!isUnsupported(editError)) throw editError;
        const models = [...new Set([...modelsIn(error), ...modelsIn(editError)])];
        const model = String(error.context.model);
        throw new ImagineError(
          'unsupported_by_model',
          models.length > 0
            ? `The ${model} model cannot work from an image; models that can: ${models.join(', ')}`
            : `The ${model} model cannot work from an image, and no model on this server can`,
          { model, feature: 'image_to_image', models },
        );
      }
    }
  }

  /**
   * A stored image of `owner`'s with its record; anyone else's (or none) is a 404. REST passes the caller
   * (only their own images); a chat button names the image's owner while the presser pays.
   */
  async #storedImage(
    owner: string,
    imageId: string,
  ): Promise<{ record: GenerationRecord; image: InputImage }> {
    const record = await this.#dependencies.records.get(owner, imageId);
    if (!record) throw new ImagineError('not_found', 'You have no image with that id');
    let bytes: Uint8Array;
    try {
      bytes = await this.#dependencies.storage.read(record.storageKey);
    } catch (error) {
      if (isStorageFailure(error)) throw storageUnavailable(error);
      this.#dependencies.logger.error(
        { err: error, key: record.storageKey },
        'reading a stored image failed',
      );
      throw new ImagineError('not_found', 'That image is no longer stored');
    }
    return {
      record,
      image: {
        bytes,
        mediaType: record.contentType as InputImage['mediaType'],
        width: record.width,
        height: record.height,
      },
    };
  }

  #prepare(
    request: {
      size: string;
      aspect_ratio?: AspectRatio | undefined;
      style?: string | undefined;
      model?: string | undefined;
      quality?: 'standard' | 'high' | undefined;
    },
    context: GenerationContext,
    batchId: string | undefined,
    source: ImageSource | undefined,
  ): PreparedRequest {
    const route = this.#routeFor(request.model, context.caller.plan, source?.task ?? 'text_to_image');
    const size = parseSize(request.size);
    if (!size) throw validationError([{ field: 'size', message: 'size must look like WIDTHxHEIGHT' }]);
    const dimensions = resolveDimensions(size, request.aspect_ratio);
    return {
      route,
      size: dimensions,
      aspectRatio: request.aspect_ratio ?? aspectRatioOf(dimensions),
      quality: request.quality ?? 'high',
      style: request.style === undefined ? undefined : findStylePreset(request.style),
      batchId,
      source,
      relaxBlocklist: context.relaxBlocklist === true,
    };
  }

  async #planCalls(
    prompts: readonly string[],
    imagesPerPrompt: number,
    request: { enhance_prompt: boolean; negative_prompt?: string | undefined; seed?: number | undefined },
    prepared: PreparedRequest,
  ): Promise<PlannedCall[]> {
    const { moderator, promptEnhancer } = this.#dependencies;
    // Every prompt passes moderation before any quota is held, so a refusal costs nothing. Moderators and
    // the rule-based enhancer answer synchronously; only a remote one (OpenAI) is awaited.
    const checks = prompts
      .map((prompt) => moderator.check(prompt, { relaxBlocklist: prepared.relaxBlocklist }))
      .filter((answer) => answer instanceof Promise);
    if (checks.length > 0) await Promise.all(checks);
    const enhancedPrompts = promptEnhancer
      ? await Promise.all(
          prompts.map((prompt) => promptEnhancer.enhance(enhancementOf(prompt, request, prepared))),
        )
      : prompts.map((prompt) => enhancePrompt(enhancementOf(prompt, request, prepared)));
    // Calls are sized for the strictest model on the route, so a fallback can take any of them.
    const maxImagesPerCall = Math.min(...prepared.route.map((step) => step.model.maxImagesPerCall));
    const calls: PlannedCall[] = [];
    let index = 0;
    for (const [position, prompt] of prompts.entries()) {
      const enhanced = enhancedPrompts[position] as EnhancedPrompt;
      for (const n of splitIntoCalls(imagesPerPrompt, maxImagesPerCall)) {
        const seeds = Array.from({ length: n }, (_, offset) =>
          // A given seed makes the whole batch reproducible: image k uses seed + k.
          request.seed === undefined
            ? this.#randomSeed()
            : (request.seed + index + offset) % (maximumSeed + 1),
        );
        calls.push({
          firstIndex: index,
          n,
          prompt,
          promptUsed: enhanced.promptUsed,
          negativePrompt: enhanced.negativePrompt,
          userNegativePrompt: request.negative_prompt !== undefined,
          seeds,
        });
        index += n;
      }
    }
    return calls;
  }

  async #run(
    calls: PlannedCall[],
    prepared: PreparedRequest,
    context: GenerationContext,
  ): Promise<GenerationOutcome> {
    const { logger } = this.#dependencies;
    const startedAt = performance.now();
    const imageCount = calls.reduce((total, call) => total + call.n, 0);
    // Held at the dearest model on the route: a fallback must not push spending past the budget.
    const estimatedUsd = imageCount * highestPriceUsd(prepared.route, prepared);
    context.abortSignal?.throwIfAborted();
    this.#dependencies.disk?.assertWritable();
    // Image k of the request is recorded (and stored) under imageIds[k], fixed before the hold, which
    // keeps them: after a crash, recovery knows what may have been stored for nothing.
    const requestedAt = this.#now();
    const imageIds = Array.from({ length: imageCount }, () => newRecordId(requestedAt));

    const holding = {
      userId: context.caller.userId,
      userLimit: context.caller.plan.monthlyImages,
      userDailyLimit: context.caller.plan.dailyImages,
      scope: context.scope,
      images: imageCount,
      estimatedUsd,
      budgetUsd: this.#dependencies.monthlyBudgetUsd,
      jobId: context.job?.id,
      imageIds,
      tally: context.tally,
    };
    let reservation = await this.#dependencies.writes.hold(holding, context.job?.rowWithHold);
    if (reservation === 'job-queued') {
      // The user's other jobs (in other processes) fill MAX_JOBS_PER_USER: the row went in queued and no
      // quota is held. Once the job has started, it holds like any other, its row already written.
      await context.job?.waitForStart(context.abortSignal);
      context.abortSignal?.throwIfAborted();
      reservation = await this.#dependencies.writes.hold(holding, undefined);
      if (reservation === 'job-queued') throw new Error('a hold without a job row cannot be queued');
    }
    let settled = false;
    try {
      const { produced: made, failures } = await this.#produce(calls, prepared, context);
      const produced = await this.#moderateOutput(made, failures);
      const outcome = await this.#storeAndRecord(
        produced,
        failures,
        prepared,
        context,
        reservation,
        imageIds,
        startedAt,
      );
      settled = true;
      const delivered = outcome.images;
      logger.info(
        {
          userId: context.caller.userId,
          source: context.source,
          model: prepared.route[0].descriptor.id,
          delivered: delivered.length,
          failed: failures.length,
          seconds: outcome.generationSeconds,
        },
        'generation finished',
      );
      if (delivered.length === 0) throw mostTelling(failures);
      return outcome;
    } finally {
      if (!settled) await this.#dependencies.writes.release(reservation.id);
    }
  }

  /**
   * The images the output moderator lets through; a withheld one becomes a failure of its own, so it is
   * never stored, posted or charged.
   */
  async #moderateOutput(produced: ProducedImage[], failures: BatchFailure[]): Promise<ProducedImage[]> {
    const moderator = this.#dependencies.outputModerator;
    if (!moderator || produced.length === 0) return produced;
    const verdicts = await Promise.all(
      produced.map((item) =>
        moderator.check(item.image).then(
          () => undefined,
          (error: unknown) =>
            ImagineError.isInstance(error) ? error : new ImagineError('generation_failed'),
        ),
      ),
    );
    const kept: ProducedImage[] = [];
    produced.forEach((item, position) => {
      const refusal = verdicts[position];
      if (refusal) failures.push({ index: item.index, error: refusal });
      else kept.push(item);
    });
    return kept;
  }

  /** Runs every call concurrently; a failed call fails only its own images. */
  async #produce(calls: PlannedCall[], prepared: PreparedRequest, context: GenerationContext) {
    const produced: ProducedImage[] = [];
    const failures: BatchFailure[] = [];
    const progress = progressOfCalls(calls.length, context.job);
    await Promise.all(
      calls.map(async (call, callIndex) => {
        const callStartedAt = performance.now();
        try {
          const { result, descriptor } = await generateAlongRoute(
            prepared.route,
            {
              task: prepared.source?.task ?? 'text_to_image',
              prompt: call.promptUsed,
              negativePrompt: call.negativePrompt,
              n: call.n,
              size: prepared.size,
              aspectRatio: prepared.aspectRatio,
              seed: call.seeds[0],
              quality: prepared.quality,
              style: prepared.style,
              abortSignal: context.abortSignal,
              // Only a single-call job can name its one piece of provider work.
              resumeProviderRequestId: calls.length === 1 ? context.job?.resumeProviderRequestId : undefined,
              onProviderRequest:
                calls.length === 1 && context.job
                  ? (providerRequestId) => context.job?.noteProviderRequest(providerRequestId)
                  : undefined,
              onProgress: progress && ((fraction) => progress(callIndex, fraction)),
              // A request's calls queue together; the first one's place stands for the request's.
              onQueued:
                context.job && callIndex === 0
                  ? (position) => context.job?.noteQueuePosition(position)
                  : undefined,
              inputImages: prepared.source ? [prepared.source.image] : undefined,
              strength: prepared.source?.strength,
              upscaleFactor: prepared.source?.upscaleFactor,
            },
            this.#dependencies.logger,
          );
          const images = result.images.slice(0, call.n);
          const costPerImage =
            result.usage.costUsd === undefined
              ? descriptor.priceUsd(images[0]?.dimensions ?? prepared.size, prepared.quality)
              : result.usage.costUsd / Math.max(1, images.length);
          images.forEach((image, offset) => {
            produced.push({
              index: call.firstIndex + offset,
              call,
              image,
              descriptor,
              size: image.dimensions ?? prepared.size,
              // The seed the model reports using (A1111 echoes it), else the one we sent.
              seed: image.seed ?? call.seeds[offset],
              costUsd: costPerImage,
              warnings: [
                ...(prepared.source?.warnings ?? []),
                ...(call.userNegativePrompt
                  ? result.warnings
                  : withoutNegativePromptWarning(result.warnings)),
              ],
              providerRequestId: result.response.providerRequestId,
              revisedPrompt: result.response.revisedPrompt,
              elapsedMs: performance.now() - callStartedAt,
            });
          });
          // A provider returning fewer images than asked: the missing ones are failures, not charges.
          for (let offset = images.length; offset < call.n; offset++) {
            failures.push({ index: call.firstIndex + offset, error: new ImagineError('generation_failed') });
          }
        } catch (error) {
          const coded = this.#toCodedError(error, prepared.route[0].descriptor.id);
          for (let offset = 0; offset < call.n; offset++)
            failures.push({ index: call.firstIndex + offset, error: coded });
          await this.#dependencies.failures?.record({
            userId: context.caller.userId,
            model: prepared.route[0].descriptor.id,
            provider: prepared.route[0].model.provider,
            code: coded.code,
            images: call.n,
          });
        }
      }),
    );
    return { produced: produced.sort((left, right) => left.index - right.index), failures };
  }

  /**
   * Stores every produced image, then charges and records them in one transaction. Whatever is stored but
   * cannot be recorded is removed again, so storage never holds an image without its record.
   */
  async #storeAndRecord(
    produced: ProducedImage[],
    failures: BatchFailure[],
    prepared: PreparedRequest,
    context: GenerationContext,
    reservation: Reservation,
    imageIds: readonly string[],
    startedAt: number,
  ): Promise<GenerationOutcome> {
    const { storage, writes, logger } = this.#dependencies;
    const createdAt = this.#now();
    const stored = await Promise.all(
      produced.map(async (item) => {
        const id = imageIds[item.index] as string;
        const key = imageKey(context.caller.userId, id, extensionOf(item.image.mediaType));
        try {
          const bytes =
            this.#dependencies.embedParameters === false
              ? item.image.bytes
              : await embedParameters(item.image, {
                  prompt: item.call.promptUsed,
                  negativePrompt: item.call.negativePrompt,
                  seed: item.seed,
                  size: item.size,
                  model: item.descriptor.id,
                  strength: prepared.source?.strength,
                });
          const saved = await storage.save({ key, bytes, contentType: item.image.mediaType });
          return { item, id, saved, bytes };
        } catch (error) {
          logger.error({ err: error, key }, 'storing a generated image failed');
          // A full or failing disk is the service's outage, not this image's: say so, and when to retry.
          const failure = isStorageFailure(error)
            ? storageUnavailable(error)
            : new ImagineError('generation_failed');
          failures.push({ index: item.index, error: failure });
          return undefined;
        }
      }),
    );
    const kept = stored.filter((entry) => entry !== undefined);
    const generationRecords: GenerationRecord[] = kept.map(({ item, id, saved }) => ({
      id,
      userId: context.caller.userId,
      batchId: prepared.batchId,
      source: context.source,
      prompt: item.call.prompt,
      promptUsed: item.call.promptUsed,
      negativePrompt: item.call.negativePrompt,
      style: prepared.style?.name,
      model: item.descriptor.id,
      seed: item.seed,
      width: item.size.width,
      height: item.size.height,
      quality: prepared.quality,
      costUsd: roundUsd(item.costUsd),
      generationMs: Math.round(item.elapsedMs),
      storageKey: saved.key,
      imageUrl: saved.url,
      contentType: item.image.mediaType,
      providerRequestId: item.providerRequestId,
      warnings: item.warnings,
      createdAt,
      parentId: prepared.source?.parentId,
      kind: prepared.source?.kind,
    }));
    const delivered = kept.map(({ item, bytes }, position): GeneratedImageResult => {
      const record = generationRecords[position] as GenerationRecord;
      return {
        id: record.id,
        bytes,
        storageKey: record.storageKey,
        batchId: record.batchId,
        imageUrl: record.imageUrl,
        model: record.model,
        seed: record.seed,
        size: item.size,
        quality: record.quality,
        prompt: record.prompt,
        promptUsed: record.promptUsed,
        negativePrompt: record.negativePrompt,
        style: record.style,
        costUsd: record.costUsd,
        generationSeconds: Math.round(item.elapsedMs) / 1000,
        createdAt,
        warnings: item.warnings,
        revisedPrompt: item.revisedPrompt,
        contentType: record.contentType,
        parentId: record.parentId,
        kind: record.kind,
      };
    });
    failures.sort((left, right) => left.index - right.index);
    const totalCostUsd = roundUsd(delivered.reduce((total, image) => total + image.costUsd, 0));
    try {
      const job = context.job;
      const generationSeconds = secondsSince(startedAt);
      const outcome: Omit<GenerationOutcome, 'usage'> = {
        images: delivered,
        failures,
        totalCostUsd,
        generationSeconds,
      };
      const usage = await writes.charge({
        reservation,
        records: generationRecords,
        charge: { images: generationRecords.length, costUsd: totalCostUsd },
        userLimit: context.caller.plan.monthlyImages,
        userDailyLimit: context.caller.plan.dailyImages,
        // The job ends succeeded, with its result, in the charge's own commit.
        job:
          job && generationRecords.length > 0
            ? {
                id: job.id,
                result(standing) {
                  return job.keep({ ...outcome, usage: standing });
                },
              }
            : undefined,
      });
      if (job && generationRecords.length > 0) job.finishedWithCharge();
      return { ...outcome, usage };
    } catch (error) {
      await Promise.allSettled(generationRecords.map((record) => storage.remove(record.storageKey)));
      throw error;
    }
  }

  /**
   * The model route for a requested model and plan. Models, plans and fallbacks are fixed for the life of
   * the process, so a route is resolved once and kept; only successful resolutions are kept (an error is
   * thrown afresh each time, with the caller's plan in it).
   */
  #routeFor(requested: string | undefined, plan: PlanDefinition, task: ModelCapability): ModelRoute {
    const key = `${plan.name}\u0000${task}\u0000${requested ?? ''}`;
    let route = this.#routes.get(key);
    if (!route) {
      route = resolveModelRoute({
        requested,
        defaultModel: this.#dependencies.defaultModel,
        fallbackModels: this.#dependencies.fallbackModels ?? [],
        task,
        taskDefaultModel: this.#dependencies.taskDefaultModels?.[task],
        plan,
        registry: this.#dependencies.models,
        logger: this.#dependencies.logger,
      });
      // Bounded: a client sending ever-new model names gets 422s, and those are not cached.
      if (this.#routes.size < 1000) this.#routes.set(key, route);
    }
    return route;
  }

  #toCodedError(error: unknown, model: string): ImagineError {
    if (ImagineError.isInstance(error)) return error;
    if (error instanceof ProviderCallError) return toImagineError(error);
    const aborted = error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
    this.#dependencies.logger.error({ err: error, model }, 'image model call failed');
    return new ImagineError(
      'generation_failed',
      aborted ? 'The generation was cancelled' : undefined,
      {},
      { cause: error },
    );
  }
}

function isUnsupported(error: unknown): error is ImagineError {
  return ImagineError.isInstance(error) && error.code === 'unsupported_by_model';
}

function modelsIn(error: ImagineError): string[] {
  const models = error.context.models;
  return Array.isArray(models) ? models.map(String) : [];
}

/** When nothing was delivered, the error that tells the caller most: a policy refusal or outage over a plain failure. */
function mostTelling(failures: BatchFailure[]): ImagineError {
  const priority = [
    'content_policy_violation',
    'storage_unavailable',
    'provider_unavailable',
    'budget_exhausted',
  ];
  for (const code of priority) {
    const match = failures.find((failure) => failure.error.code === code);
    if (match) return match.error;
  }
  return failures[0]?.error ?? new ImagineError('generation_failed');
}

function extensionOf(mediaType: GeneratedImage['mediaType']): string {
  return extensionOfMediaType[mediaType];
}

/**
 * Progress across a request's calls, as the mean of each call's own: what a job reports while a batch's
 * calls run side by side. Undefined when there is no job to tell.
 */
function progressOfCalls(
  calls: number,
  job: GenerationJob | undefined,
): ((call: number, fraction: number) => void) | undefined {
  if (!job) return undefined;
  const fractions = new Array<number>(calls).fill(0);
  return (call, fraction) => {
    fractions[call] = fraction;
    job.noteProgress(fractions.reduce((total, each) => total + each, 0) / calls);
  };
}

function roundUsd(amount: number): number {
  return Math.round(amount * 1e6) / 1e6;
}

function secondsSince(startedAt: number): number {
  return Math.round(performance.now() - startedAt) / 1000;
}

/**
 * A style's negative prompt is sent where a model takes one; that a model ignores it is not worth telling
 * a user who never wrote one.
 */
function withoutNegativePromptWarning(warnings: GenerationWarning[]): GenerationWarning[] {
  return warnings.some((warning) => warning.feature === 'negative_prompt')
    ? warnings.filter((warning) => warning.feature !== 'negative_prompt')
    : warnings;
}

/** What the prompt enhancer is asked for one prompt of a request. */
function enhancementOf(
  prompt: string,
  request: { enhance_prompt: boolean; negative_prompt?: string | undefined },
  prepared: PreparedRequest,
): PromptEnhancementInput {
  return {
    prompt,
    style: prepared.style,
    enhance: request.enhance_prompt,
    negativePrompt: request.negative_prompt,
  };
}
