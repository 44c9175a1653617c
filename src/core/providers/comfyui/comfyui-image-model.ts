import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { callWithRetries, defaultRetryPolicy, type RetryPolicy } from '../call-with-retries.ts';
import type {
  GeneratedImage,
  GenerationWarning,
  ImageDimensions,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
  ModelCapability,
} from '../image-model.ts';
import { ProviderCallError } from '../provider-error.ts';
import {
  type ComfyUIExecutionFailure,
  type ComfyUIHistoryEntry,
  type ComfyUIImageReference,
  failureInHistory,
  systemStatsSchema,
} from './comfyui-api.ts';
import { comfyuiServer } from './comfyui-client.ts';
import { classifyComfyUIError, executionFailed, malformed } from './comfyui-error.ts';
import { type ComfyUISocket, connectComfyUISocket, type WebSocketClass } from './comfyui-socket.ts';
import { type ComfyUIGraph, type ComfyUIWorkflow, fillComfyUIWorkflow } from './comfyui-workflow.ts';

/** What a ComfyUI model needs: where the server is, the workflow it runs, and how long a call may take. */
export interface ComfyUIImageModelSettings {
  modelId: string;
  /** The ComfyUI server (`http://gpu-box:8188`); a path prefix behind a reverse proxy is kept. */
  baseUrl: string;
  workflow: ComfyUIWorkflow;
  /** What the entry may be called for; default what its workflow can do (comfyuiWorkflowCapabilities). */
  capabilities?: readonly ModelCapability[] | undefined;
  /** Images one call may ask for; 1 whatever is set when the workflow has no `{{batch_size}}`. */
  maxImagesPerCall: number;
  /** The whole call, queueing on the GPU included. */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer …`, for a ComfyUI behind an authenticating proxy. */
  apiKey?: string | undefined;
  /** Extra headers for every request and the websocket handshake. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Backoff between attempts (the deadline is `timeoutMs`). */
  retryPolicy?: Partial<Pick<RetryPolicy, 'initialDelayMs' | 'maxRetries'>> | undefined;
  /** Between polls of `/history` when the websocket cannot be used (default 1 s). */
  pollIntervalMs?: number | undefined;
  /** Largest image accepted from `/view` (default 50 MB). */
  maxImageBytes?: number | undefined;
  fetch?: typeof fetch | undefined;
  WebSocket?: WebSocketClass | undefined;
  logger?: Logger | undefined;
  now?: (() => Date) | undefined;
  /** A seed for calls that bring none (the generator always brings one). */
  randomSeed?: (() => number) | undefined;
}

const provider = 'comfyui';
const defaultPollIntervalMs = 1000;
/** With the websocket up, `/history` is still read every this many poll intervals, in case a message was lost. */
const pollsPerSocketCheck = 10;
const handshakeTimeoutMs = 5000;

/**
 * What a workflow can do: one with `{{image}}` redraws an init image (and cannot run without one), any other
 * draws from text.
 */
export function comfyuiWorkflowCapabilities(workflow: ComfyUIWorkflow): readonly ModelCapability[] {
  return workflow.placeholders.has('image') ? ['image_to_image'] : ['text_to_image'];
}

/**
 * A model served by a ComfyUI server running one workflow. A call fills the workflow's placeholders
 * (first uploading the init image with `POST /upload/image` when the workflow has `{{image}}`),
 * queues it (`POST /prompt` with this call's `client_id`), follows it on `/ws?clientId=` (progress, and
 * the end) or, when the websocket cannot be used, by polling `/history/{prompt_id}`, then fetches the saved
 * images from `/view`. A retry keeps a prompt that is still queued or running instead of queueing it again.
 * A call that is cancelled or runs out of time takes its prompt off the queue, or interrupts it.
 */
export function createComfyUIImageModel(settings: ComfyUIImageModelSettings): ImageModel {
  const { modelId, workflow, logger } = settings;
  const server = comfyuiServer(settings);
  const maxImagesPerCall = workflow.placeholders.has('batch_size') ? settings.maxImagesPerCall : 1;
  const policy: RetryPolicy = {
    ...defaultRetryPolicy,
    ...settings.retryPolicy,
    deadlineMs: settings.timeoutMs,
    attemptTimeoutMs: settings.timeoutMs,
  };
  const pollIntervalMs = settings.pollIntervalMs ?? defaultPollIntervalMs;
  const now = settings.now ?? (() => new Date());
  const randomSeed = settings.randomSeed ?? (() => Math.floor(Math.random() * 2 ** 31));
  const WebSocketImplementation = settings.WebSocket ?? WebSocket;
  const capabilities = settings.capabilities ?? comfyuiWorkflowCapabilities(workflow);

  /** `/history` until the prompt is there, waking early on the websocket's word. */
  async function waitForEnd(
    promptId: string,
    socket: ComfyUISocket | undefined,
    checkFirst: boolean,
    signal: AbortSignal,
  ): Promise<{ entry: ComfyUIHistoryEntry } | { failure: ComfyUIExecutionFailure }> {
    if (checkFirst) {
      const entry = await server.history(promptId, signal);
      if (entry) return { entry };
    }
    let live = socket;
    for (;;) {
      if (live) {
        const outcome = await live.wait(pollIntervalMs * pollsPerSocketCheck, signal);
        if (outcome.kind === 'failed') return { failure: outcome.failure };
        if (outcome.kind === 'lost') {
          logger?.warn({ model: modelId, promptId }, 'ComfyUI websocket closed; polling /history instead');
        }
        // After `done` the entry is normally there at once; if not, poll for it.
        if (outcome.kind !== 'quiet') live = undefined;
      } else {
        await sleep(pollIntervalMs, undefined, { signal });
      }
      const entry = await server.history(promptId, signal);
      if (entry) return { entry };
    }
  }

  return {
    provider,
    modelId,
    maxImagesPerCall,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      if (!Number.isInteger(options.n) || options.n < 1 || options.n > maxImagesPerCall) {
        // The core splits requests by maxImagesPerCall, so this is a caller's bug, not a user's mistake.
        throw new RangeError(`${modelId} takes 1 to ${maxImagesPerCall} images a call, not ${options.n}`);
      }
      if (!capabilities.includes(options.task)) {
        throw rejected(`${modelId} cannot do ${options.task} (it does ${capabilities.join(', ')})`);
      }
      const initImage = options.inputImages?.[0];
      const takesImage = workflow.placeholders.has('image');
      if (takesImage && initImage === undefined) {
        throw rejected(`${options.task} needs an input image, and the call has none`);
      }
      const seed = options.seed ?? randomSeed();
      // Filled once the init image is uploaded (by the first attempt that gets that far), then kept.
      let graph: ComfyUIGraph | undefined;
      const graphFor = async (clientId: string, signal: AbortSignal): Promise<ComfyUIGraph> => {
        if (graph) return graph;
        const image =
          takesImage && initImage
            ? await server.uploadImage(initImage, uploadName(clientId, initImage.mediaType), signal)
            : undefined;
        graph = fillComfyUIWorkflow(workflow, {
          prompt: options.prompt,
          negativePrompt: options.negativePrompt ?? '',
          seed,
          width: options.size.width,
          height: options.size.height,
          batchSize: options.n,
          image,
          strength: options.strength,
        });
        return graph;
      };
      const warnings = workflowWarnings(workflow, options);
      const clientId = randomUUID();
      let reported = -1;
      // Non-decreasing: a second sampler (a refiner, an upscaler) starts again from 0.
      const onProgress = (value: number) => {
        if (value <= reported) return;
        reported = value;
        options.onProgress?.(value);
      };

      let promptId = options.resumeProviderRequestId;
      let mustCheckResumed = promptId !== undefined;
      // A prompt a crashed process queued sends its events to that process's client id, not ours: poll it.
      let useSocket = promptId === undefined;
      let finished = false;

      const attempt = async (signal: AbortSignal) => {
        let socket: ComfyUISocket | undefined;
        try {
          if (promptId !== undefined && mustCheckResumed) {
            mustCheckResumed = false;
            if (!(await server.knows(promptId, signal))) {
              logger?.info(
                { model: modelId, promptId },
                'ComfyUI no longer knows the prompt; queueing it again',
              );
              promptId = undefined;
              useSocket = true;
            }
          }
          const following = promptId !== undefined;
          if (useSocket) {
            socket = await connectComfyUISocket({
              url: server.socketUrl(clientId),
              headers: server.headers,
              WebSocket: WebSocketImplementation,
              handshakeTimeoutMs: Math.min(handshakeTimeoutMs, policy.attemptTimeoutMs),
              signal,
              onProgress,
              logger,
            });
          }
          if (promptId === undefined) {
            promptId = await server.queuePrompt(
              await graphFor(clientId, signal),
              clientId,
              workflow.file,
              signal,
            );
            options.onProviderRequest?.(promptId);
            logger?.debug(
              { model: modelId, promptId, websocket: socket !== undefined },
              'ComfyUI prompt queued',
            );
          }
          socket?.follow(promptId);
          const end = await waitForEnd(promptId, socket, following, signal);
          const failure = 'failure' in end ? end.failure : failureRecorded(end.entry, promptId);
          if (failure || !('entry' in end)) {
            const error = executionFailed(
              promptId,
              failure ?? { prompt_id: promptId, event: 'execution_error' },
            );
            logger?.warn(
              { model: modelId, promptId, node: failure?.node_id, classType: failure?.node_type },
              error.message,
            );
            // The prompt is over: a retry must queue it again.
            promptId = undefined;
            throw error;
          }
          finished = true;
          const { entry } = end;
          const references = imagesOf(entry, workflow.outputNode);
          if (references.length === 0) {
            const from = workflow.outputNode === undefined ? '' : ` from node ${workflow.outputNode}`;
            throw malformed(`ComfyUI prompt ${promptId} finished without images${from}`);
          }
          const images = await Promise.all(
            references.slice(0, options.n).map((reference) => server.view(reference, signal)),
          );
          return { promptId, images };
        } finally {
          socket?.close();
        }
      };

      let outcome: Awaited<ReturnType<typeof attempt>>;
      try {
        outcome = await callWithRetries(attempt, {
          policy,
          classify: classifyComfyUIError,
          abortSignal: options.abortSignal,
          onRetry: (error, attemptNumber) =>
            logger?.warn(
              { err: error, model: modelId, attempt: attemptNumber, promptId },
              'ComfyUI call failed; trying again',
            ),
        });
      } catch (error) {
        if (promptId !== undefined && !finished) server.cancelInBackground(promptId, logger);
        throw error;
      }

      warnings.push(...outputWarnings(options, outcome.images));
      logger?.debug({ model: modelId, promptId: outcome.promptId, warnings }, 'ComfyUI prompt done');
      return {
        images: outcome.images,
        warnings,
        response: {
          modelId,
          timestamp: now(),
          providerRequestId: outcome.promptId,
          revisedPrompt: undefined,
        },
        // Priced by the catalog (usually 0 for one's own GPU).
        usage: { costUsd: undefined },
      };
    },
  };
}

function rejected(message: string): ProviderCallError {
  return new ProviderCallError('rejected', message, { provider });
}

/** A name of this call's own, so two calls' init images never overwrite each other in the input folder. */
function uploadName(clientId: string, mediaType: string): string {
  const extension = mediaType === 'image/jpeg' ? 'jpg' : mediaType.slice('image/'.length);
  return `imagine-${clientId}.${extension}`;
}

/** Whether a ComfyUI server is up and what it runs on; never throws. */
export interface ComfyUIReadiness {
  ready: boolean;
  /** The version and GPU when ready; why not, otherwise. */
  detail: string;
}

/** The cheap readiness probe `/health` uses: `GET /system_stats`, no model loaded, nothing queued. */
export async function probeComfyUI(settings: {
  baseUrl: string;
  apiKey?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
}): Promise<ComfyUIReadiness> {
  try {
    const server = comfyuiServer(settings);
    const body = await server.getJson('system_stats', AbortSignal.timeout(settings.timeoutMs ?? 5000));
    const parsed = systemStatsSchema.safeParse(body);
    if (!parsed.success) return { ready: false, detail: 'GET /system_stats is not what ComfyUI sends' };
    const version = parsed.data.system.comfyui_version ?? 'unknown version';
    const devices = parsed.data.devices.map((device) => {
      const free = device.vram_free === undefined ? '' : `, ${gigabytes(device.vram_free)} GB VRAM free`;
      return `${device.name ?? 'unnamed device'}${free}`;
    });
    return {
      ready: true,
      detail: `ComfyUI ${version}${devices.length > 0 ? ` on ${devices.join('; ')}` : ''}`,
    };
  } catch (error) {
    return { ready: false, detail: classifyComfyUIError(error).message };
  }
}

/** How a finished prompt failed, if it did: the recorded error, or just `status_str: error`. */
function failureRecorded(entry: ComfyUIHistoryEntry, promptId: string): ComfyUIExecutionFailure | undefined {
  const recorded = failureInHistory(entry);
  if (recorded) return recorded;
  return entry.status?.status_str === 'error' ? { prompt_id: promptId, event: 'execution_error' } : undefined;
}

/** The images a finished prompt saved: the named node's, or every node's saved (`output`) files. */
function imagesOf(entry: ComfyUIHistoryEntry, outputNode: string | undefined): ComfyUIImageReference[] {
  if (outputNode !== undefined) return entry.outputs[outputNode]?.images ?? [];
  const all = Object.values(entry.outputs).flatMap((output) => output.images ?? []);
  const saved = all.filter((image) => image.type === 'output');
  // A workflow that ends in a PreviewImage has only `temp` files; those are its result then.
  return saved.length > 0 ? saved : all;
}

/** What this workflow cannot take from the call: a seed or a negative prompt it has no placeholder for. */
function workflowWarnings(workflow: ComfyUIWorkflow, options: ImageModelCallOptions): GenerationWarning[] {
  const warnings: GenerationWarning[] = [];
  if (!workflow.placeholders.has('seed')) {
    warnings.push({ type: 'unsupported', feature: 'seed', detail: 'this ComfyUI workflow has no {{seed}}' });
  } else if (options.n > 1) {
    warnings.push({
      type: 'other',
      feature: 'seed',
      detail: 'ComfyUI renders a batch from one seed: only the first image reproduces from its seed alone',
    });
  }
  const takesStrength = workflow.placeholders.has('strength') || workflow.placeholders.has('denoise');
  if (options.strength !== undefined && !takesStrength) {
    warnings.push({
      type: 'unsupported',
      feature: 'strength',
      detail: 'this ComfyUI workflow has no {{strength}} or {{denoise}}; its own denoise was used',
    });
  }
  if (options.negativePrompt !== undefined && !workflow.placeholders.has('negative_prompt')) {
    warnings.push({
      type: 'unsupported',
      feature: 'negative_prompt',
      detail: 'this ComfyUI workflow has no {{negative_prompt}}; it was not used',
    });
  }
  return warnings;
}

/** Fewer images than asked, or a size other than the one asked (a workflow with a fixed size, an upscaler). */
function outputWarnings(
  options: ImageModelCallOptions,
  images: readonly GeneratedImage[],
): GenerationWarning[] {
  const warnings: GenerationWarning[] = [];
  if (images.length < options.n) {
    warnings.push({
      type: 'other',
      feature: 'n',
      detail: `asked for ${options.n} images, ComfyUI returned ${images.length}`,
    });
  }
  const rendered = images[0]?.dimensions;
  // An image-to-image workflow renders at its init image's size, not the asked one.
  if (
    options.task === 'text_to_image' &&
    rendered &&
    (rendered.width !== options.size.width || rendered.height !== options.size.height)
  ) {
    warnings.push({
      type: 'mapped',
      feature: 'size',
      detail: `${formatSize(options.size)} → ${formatSize(rendered)}: the size this workflow rendered`,
    });
  }
  return warnings;
}

function formatSize(size: ImageDimensions): string {
  return `${size.width}x${size.height}`;
}

function gigabytes(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(1);
}
