import type { Logger } from 'pino';
import { callWithRetries, type RetryPolicy } from '../call-with-retries.ts';
import type {
  GeneratedImage,
  GenerationWarning,
  ImageDimensions,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
} from '../image-model.ts';
import { nearestOpenAISize } from '../openai/openai-image-model.ts';
import { ProviderCallError, type ProviderFailureKind } from '../provider-error.ts';
import { type DownloadRules, downloadImage, identifyImageBytes } from '../safe-download.ts';
import {
  classifyHttpError,
  decodeBase64Image,
  type EnvironmentVariables,
  type ProbeResult,
  readSecret,
  requestJson,
  selfHostedRetryPolicy,
} from '../self-hosted-http.ts';
import { endpointUrl, type ImageDatum, parseImagesResponse, parseModelIds } from './openai-compatible-api.ts';

/** One configured model on a server that speaks OpenAI's images API (LocalAI, vLLM-style servers). */
export interface OpenAICompatibleImageModelSettings {
  /** imagine's id for the model (the entry's `id`). */
  modelId: string;
  /** The server's root, with or without `/v1` (the entry's `base_url`; see endpointUrl). */
  baseUrl: string;
  /** Sent as `model` (the entry's `vendor_model`); left out when unset, for servers with one model. */
  vendorModel: string | undefined;
  /** The variable holding the server's key (`api_key_env`); undefined for a server that takes none. */
  apiKeyEnv: string | undefined;
  /** Where `api_key_env` is read when a call is made (default `process.env`). */
  env?: EnvironmentVariables;
  /** The sizes the server renders; undefined for any (sent as asked). */
  sizes: readonly ImageDimensions[] | undefined;
  /** The most images one call asks for (`n`). */
  maxImagesPerCall: number;
  /** The whole call, retry included (`timeout_ms`). */
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
  /** Limits on images the server returns as links; base_url's own origin is always allowed. */
  downloadRules?: Partial<Omit<DownloadRules, 'provider'>>;
  logger?: Logger;
  now?: () => Date;
  /** Default: selfHostedRetryPolicy(timeoutMs). */
  retryPolicy?: RetryPolicy;
}

const provider = 'openai-compatible';
const defaultMaxBytes = 20 * 1024 * 1024;
const defaultProbeTimeoutMs = 3000;
/** `error.code` values OpenAI-style servers use for a prompt their safety system refused. */
const safetyCodes = new Set(['content_policy_violation', 'moderation_blocked']);

/**
 * A model on a self-hosted server behind `POST /v1/images/generations`, apart from OpenAI itself (which
 * `OPENAI_BASE_URL` keeps meaning, so moderation and prompt enhancement never reach an image server). It
 * asks for `b64_json`; a server that answers with links anyway has them fetched through the safe download,
 * from base_url's own origin only (plain http and loopback or LAN addresses included, since that is where
 * such servers live).
 */
export function createOpenAICompatibleImageModel(settings: OpenAICompatibleImageModelSettings): ImageModel {
  const { modelId, maxImagesPerCall, logger } = settings;
  const url = endpointUrl(settings.baseUrl, '/images/generations');
  const fetch = settings.fetch ?? globalThis.fetch;
  const policy = settings.retryPolicy ?? selfHostedRetryPolicy(settings.timeoutMs);
  const now = settings.now ?? (() => new Date());
  const env = settings.env ?? process.env;
  const rules: DownloadRules = {
    allowedHosts: [],
    maxBytes: defaultMaxBytes,
    ...settings.downloadRules,
    allowedOrigins: [...(settings.downloadRules?.allowedOrigins ?? []), new URL(url).origin],
    provider,
  };

  return {
    provider,
    modelId,
    maxImagesPerCall,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      if (!Number.isInteger(options.n) || options.n < 1 || options.n > maxImagesPerCall) {
        // The core splits requests by maxImagesPerCall, so this is a caller's bug, not a user's mistake.
        throw new RangeError(`${modelId} takes 1 to ${maxImagesPerCall} images a call, not ${options.n}`);
      }
      const headers: Record<string, string> =
        settings.apiKeyEnv === undefined
          ? {}
          : { authorization: `Bearer ${readSecret(env, settings.apiKeyEnv, provider)}` };
      const size =
        settings.sizes && settings.sizes.length > 0
          ? nearestOpenAISize(options.size, settings.sizes)
          : options.size;
      const body = {
        ...(settings.vendorModel === undefined ? {} : { model: settings.vendorModel }),
        prompt: options.prompt,
        n: options.n,
        size: formatSize(size),
        response_format: 'b64_json',
      };

      const images = await callWithRetries(
        async (signal) => {
          const answer = await requestJson({
            provider,
            method: 'POST',
            url,
            body,
            headers,
            signal,
            fetch,
            kindOf,
          });
          const data = parseImagesResponse(answer);
          // Inside the attempt: a link is fetched at once, under the attempt's own timeout.
          return Promise.all(data.map((datum) => imageOf(datum, rules, signal)));
        },
        {
          policy,
          classify: classifyHttpError(provider),
          abortSignal: options.abortSignal,
          onRetry: (error, attempt) =>
            logger?.warn({ err: error, model: modelId, attempt }, 'image server call failed; trying again'),
        },
      );
      return {
        images: images.map(({ image }) => image),
        warnings: warningsFor(options, size, images.length),
        response: {
          modelId,
          timestamp: now(),
          providerRequestId: undefined,
          revisedPrompt: images[0]?.revisedPrompt,
        },
        // The entry's `price_usd` is what the generator charges.
        usage: { costUsd: undefined },
      };
    },
  };
}

/**
 * Whether the server answers `GET /v1/models` and, when the entry names a model, lists it. Never throws;
 * a missing key variable is reported as not ready.
 */
export async function probeOpenAICompatible(
  settings: Pick<
    OpenAICompatibleImageModelSettings,
    'baseUrl' | 'vendorModel' | 'apiKeyEnv' | 'env' | 'fetch'
  > & {
    timeoutMs?: number;
  },
): Promise<ProbeResult> {
  try {
    const env = settings.env ?? process.env;
    const headers: Record<string, string> =
      settings.apiKeyEnv === undefined
        ? {}
        : { authorization: `Bearer ${readSecret(env, settings.apiKeyEnv, provider)}` };
    const answer = await requestJson({
      provider,
      method: 'GET',
      url: endpointUrl(settings.baseUrl, '/models'),
      headers,
      signal: AbortSignal.timeout(settings.timeoutMs ?? defaultProbeTimeoutMs),
      fetch: settings.fetch ?? globalThis.fetch,
    });
    const ids = parseModelIds(answer);
    if (!ids) return { ready: false, detail: 'GET /v1/models did not answer a list of models' };
    const wanted = settings.vendorModel;
    if (wanted !== undefined && !ids.includes(wanted)) {
      return { ready: false, detail: `the server does not list the model "${wanted}"` };
    }
    return { ready: true, detail: `${ids.length} model${ids.length === 1 ? '' : 's'} on the server` };
  } catch (error) {
    if (error instanceof ProviderCallError) return { ready: false, detail: error.message };
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ready: false, detail: timedOut ? 'no answer from GET /v1/models in time' : String(error) };
  }
}

/** A 400 whose code is a safety refusal is `safety`, as with OpenAI itself. */
function kindOf(status: number, body: unknown): ProviderFailureKind | undefined {
  if (status < 400 || status >= 500 || typeof body !== 'object' || body === null) return undefined;
  const { error } = body as { error?: { code?: unknown } };
  return typeof error?.code === 'string' && safetyCodes.has(error.code) ? 'safety' : undefined;
}

async function imageOf(
  datum: ImageDatum,
  rules: DownloadRules,
  signal: AbortSignal,
): Promise<{ image: GeneratedImage; revisedPrompt: string | undefined }> {
  const checked = datum.b64_json
    ? await identifyImageBytes(decodeBase64Image(datum.b64_json, provider), provider)
    : await downloadImage(datum.url as string, rules, signal);
  const { bytes, mediaType, width, height } = checked;
  return {
    image: { bytes, mediaType, dimensions: { width, height } },
    revisedPrompt: datum.revised_prompt ?? undefined,
  };
}

function warningsFor(
  options: ImageModelCallOptions,
  size: ImageDimensions,
  delivered: number,
): GenerationWarning[] {
  const warnings: GenerationWarning[] = [];
  if (size.width !== options.size.width || size.height !== options.size.height) {
    warnings.push({
      type: 'mapped',
      feature: 'size',
      detail: `${formatSize(options.size)} → ${formatSize(size)}`,
    });
  }
  if (options.seed !== undefined) {
    warnings.push({
      type: 'unsupported',
      feature: 'seed',
      detail: "OpenAI's images API takes no seed, so the same request can give a different image.",
    });
  }
  if (options.negativePrompt !== undefined) {
    warnings.push({
      type: 'unsupported',
      feature: 'negative_prompt',
      detail: "OpenAI's images API takes no negative prompt; it was not sent.",
    });
  }
  if (delivered < options.n) {
    warnings.push({
      type: 'other',
      feature: 'n',
      detail: `asked for ${options.n} images, the server returned ${delivered}`,
    });
  }
  return warnings;
}

function formatSize(size: ImageDimensions): string {
  return `${size.width}x${size.height}`;
}
