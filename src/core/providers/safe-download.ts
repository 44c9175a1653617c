import sharp, { type Metadata } from 'sharp';
import { readImageHeader } from './image-header.ts';
import type { GeneratedImage } from './image-model.ts';
import { ProviderCallError, parseRetryAfter } from './provider-error.ts';

/** Limits on fetching an image a provider returned as a URL. */
export interface DownloadRules {
  /** Hosts (exact, lower-case) images may come from, e.g. `replicate.delivery`. Subdomains must be listed. */
  allowedHosts: readonly string[];
  /** Largest body accepted, in bytes (default 20 MB). */
  maxBytes: number;
  /** Name for errors and logs (`replicate`). */
  provider: string;
  /** Redirects followed before giving up (default 3); each target must pass the same host check. */
  maxRedirects?: number;
  /**
   * Exact origins (`http://192.168.1.20:8080`) of self-hosted servers the operator named in MODELS_FILE:
   * only these may be fetched over plain http, on a port, or on a loopback or LAN address, since that is
   * where such servers live. Everything else keeps the https-on-an-allowed-host rule.
   */
  allowedOrigins?: readonly string[];
  /**
   * Sent with the request to the URL's own origin only (a chat platform's bot token for its private file
   * links); a redirect to any other origin goes without them, as browsers drop Authorization.
   */
  headers?: Readonly<Record<string, string>>;
}

/** A downloaded image, checked to be what its bytes say it is. */
export type DownloadedImage = GeneratedImage & { width: number; height: number };

type ImageMediaType = GeneratedImage['mediaType'];

const defaultMaxRedirects = 3;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const sharpFormats: Record<ImageMediaType, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
};

/**
 * Fetches a provider's output image once, immediately (provider links expire), under `rules`: https only,
 * allowed hosts only (redirects included), at most `maxBytes`, and bytes that really are a PNG, JPEG or WebP.
 *
 * Throws ProviderCallError('malformed' | 'network' | 'unavailable'). An abort of `signal` is not
 * classified: the signal's own reason is rethrown unchanged, so the caller can tell its timeout from
 * a cancellation (it is the caller who owns the deadline).
 */
export async function downloadImage(
  url: string,
  rules: DownloadRules,
  signal: AbortSignal | undefined,
): Promise<DownloadedImage> {
  try {
    const response = await fetchFollowingRedirects(url, rules, signal);
    const bytes = await readCapped(response, rules);
    return await identifyImage(bytes, rules);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof ProviderCallError) throw error;
    throw new ProviderCallError('network', `Downloading the image failed: ${describeError(error)}`, {
      provider: rules.provider,
      cause: error,
    });
  }
}

/** Fetches `url`, following redirects by hand so that every hop is checked before it is requested. */
async function fetchFollowingRedirects(
  url: string,
  rules: DownloadRules,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const maxRedirects = rules.maxRedirects ?? defaultMaxRedirects;
  let target = checkedUrl(url, undefined, rules);
  const origin = target.origin;
  for (let redirects = 0; ; redirects += 1) {
    signal?.throwIfAborted();
    const headers = rules.headers && target.origin === origin ? { headers: { ...rules.headers } } : {};
    const response = await fetch(target, { redirect: 'manual', ...headers, ...(signal ? { signal } : {}) });
    if (!redirectStatuses.has(response.status)) {
      await checkStatus(response, rules);
      return response;
    }
    await discardBody(response);
    if (redirects >= maxRedirects) {
      throw malformed(`More than ${maxRedirects} redirects from ${describeUrl(url)}`, rules, response.status);
    }
    const location = response.headers.get('location');
    if (!location) throw malformed(`Redirect ${response.status} without a Location`, rules, response.status);
    target = checkedUrl(location, target, rules);
  }
}

/**
 * Parses `raw` (relative to `base`) and refuses anything but https on the default port of an allowed host,
 * or one of the operator's own origins exactly.
 */
function checkedUrl(raw: string, base: URL | undefined, rules: DownloadRules): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw, base);
  } catch {
    throw malformed('Image URL does not parse', rules);
  }
  if (parsed.username || parsed.password) throw malformed('Image URL carries credentials', rules);
  if (rules.allowedOrigins?.includes(parsed.origin)) return parsed;
  // URL lower-cases the hostname and empties `port` when it is the scheme's default.
  if (parsed.protocol !== 'https:') throw malformed(`Image URL is not https: ${describeUrl(parsed)}`, rules);
  if (parsed.port !== '') throw malformed(`Image URL names a port: ${describeUrl(parsed)}`, rules);
  if (!rules.allowedHosts.includes(parsed.hostname)) {
    throw malformed(`Image host is not allowed: ${parsed.hostname}`, rules);
  }
  return parsed;
}

async function checkStatus(response: Response, rules: DownloadRules): Promise<void> {
  const { status } = response;
  if (status >= 200 && status < 300) return;
  await discardBody(response);
  if (status === 429 || status >= 500) {
    throw new ProviderCallError('unavailable', `Image download answered ${status}`, {
      provider: rules.provider,
      status,
      retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
    });
  }
  // A 403/404 is an expired or wrong link: asking again cannot help.
  throw malformed(`Image download answered ${status}`, rules, status);
}

/** Reads the body, stopping (and cancelling the stream) as soon as it passes `maxBytes`. */
async function readCapped(response: Response, rules: DownloadRules): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > rules.maxBytes) {
    await discardBody(response);
    throw tooLarge(`declares ${declared} bytes`, rules);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > rules.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`passed ${rules.maxBytes} bytes`, rules);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Checks image bytes a provider sent inline (base64) by the same rule as a download: a PNG, JPEG or WebP
 * by its magic number, with the size its header states. Throws ProviderCallError('malformed').
 */
export function identifyImageBytes(bytes: Uint8Array, provider: string): Promise<DownloadedImage> {
  return identifyImage(bytes, { provider });
}

/**
 * Trusts the bytes, not Content-Type: the magic number names the format, and its header (read in
 * image-header.ts) or, for a header that reader does not follow, sharp must agree.
 */
async function identifyImage(
  bytes: Uint8Array,
  rules: Pick<DownloadRules, 'provider'>,
): Promise<DownloadedImage> {
  const header = readImageHeader(bytes);
  if (header) return { bytes, ...header };
  const mediaType = sniffMediaType(bytes);
  if (!mediaType)
    throw malformed(`Downloaded ${bytes.byteLength} bytes that are not a PNG, JPEG or WebP`, rules);
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw new ProviderCallError(
      'malformed',
      `Downloaded ${mediaType} does not decode: ${describeError(error)}`,
      {
        provider: rules.provider,
        cause: error,
      },
    );
  }
  const { format, width, height } = metadata;
  if (format !== sharpFormats[mediaType] || !width || !height) {
    throw malformed(`Downloaded ${mediaType} reads as ${format} ${width}x${height}`, rules);
  }
  return { bytes, mediaType, width, height };
}

/** The image type its magic number names: PNG, JPEG or WebP, else undefined. */
export function sniffMediaType(bytes: Uint8Array): ImageMediaType | undefined {
  const startsWith = (signature: readonly number[], at = 0) =>
    bytes.byteLength >= at + signature.length && signature.every((byte, index) => bytes[at + index] === byte);
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith([0x52, 0x49, 0x46, 0x46]) && startsWith([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}

/** Frees the connection of a response whose body we will not read. */
async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function malformed(
  message: string,
  rules: Pick<DownloadRules, 'provider'>,
  status?: number,
): ProviderCallError {
  return new ProviderCallError('malformed', message, { provider: rules.provider, status });
}

function tooLarge(detail: string, rules: DownloadRules): ProviderCallError {
  return malformed(`Image download ${detail}, over the ${rules.maxBytes}-byte limit`, rules);
}

/** Origin and path only: provider links carry signed query strings that should not reach logs. */
function describeUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Message and errno code, from undici's `TypeError('fetch failed', { cause })` or a bare `{ code, message }`. */
function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code, cause } = error as { message?: unknown; code?: unknown; cause?: unknown };
  const causeCode =
    typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const errno = typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : undefined;
  const text = typeof message === 'string' ? message : String(error);
  return errno ? `${text} (${errno})` : text;
}
