import sharp, { type Metadata } from 'sharp';
import { validationError } from '../errors/imagine-error.ts';
import type { InputImage } from '../providers/image-model.ts';
import { ProviderCallError } from '../providers/provider-error.ts';
import { downloadImage, sniffMediaType } from '../providers/safe-download.ts';

/** What an input image may be (MAX_INPUT_IMAGE_BYTES, INPUT_IMAGE_HOSTS). */
export interface InputImageRules {
  maxBytes: number;
  /** Exact https hosts an image URL may name; redirects must stay on them. */
  allowedHosts: readonly string[];
}

/** What one front door adds for its own uploads (a chat platform's file host and its bot token). */
export interface InputImageDownload {
  /** Hosts allowed for this image besides the operator's INPUT_IMAGE_HOSTS. */
  extraHosts?: readonly string[] | undefined;
  /** Sent to the URL's own origin only (never on a redirect elsewhere); never logged or shown. */
  headers?: Readonly<Record<string, string>> | undefined;
}

/** The longest side an input image may have, in pixels. */
export const maximumInputSide = 4096;
/** Checked from the header before any pixel is decoded, so a tiny file claiming a huge canvas costs nothing. */
const maximumInputPixels = maximumInputSide * maximumInputSide;

/**
 * Reads a request's `image`: an https URL (fetched through the safe download: allowed hosts only, redirects
 * included, at most `maxBytes`), a `data:` URL, or bare base64 — of a PNG, JPEG or WebP, one frame, at
 * most 4096 px a side. Anything else is a 422 `validation_error` on `field` saying what was wrong; it runs
 * before any quota is held.
 */
export async function readInputImage(
  image: string,
  rules: InputImageRules,
  signal: AbortSignal | undefined,
  field = 'image',
  download: InputImageDownload = {},
): Promise<InputImage> {
  const refuse = (message: string) => validationError([{ field, message }]);
  const text = image.trim();
  let bytes: Uint8Array;
  if (/^https?:\/\//i.test(text)) {
    bytes = await fetchImage(text, rules, signal, refuse, download);
  } else {
    bytes = decodeInline(text, rules, refuse);
  }
  return checkImage(bytes, refuse);
}

async function fetchImage(
  url: string,
  rules: InputImageRules,
  signal: AbortSignal | undefined,
  refuse: (message: string) => Error,
  download: InputImageDownload,
): Promise<Uint8Array> {
  if (!/^https:\/\//i.test(url)) throw refuse('an image URL must be https');
  try {
    const downloaded = await downloadImage(
      url,
      {
        allowedHosts: [...rules.allowedHosts, ...(download.extraHosts ?? [])],
        maxBytes: rules.maxBytes,
        provider: 'image',
        ...(download.headers ? { headers: download.headers } : {}),
      },
      signal,
    );
    return downloaded.bytes;
  } catch (error) {
    if (signal?.aborted) throw error;
    // The safe download's sentence says what was wrong (a foreign host, a redirect to one, too large, not an
    // image); it names hosts and paths, never the query string.
    if (error instanceof ProviderCallError) throw refuse(`could not be used: ${error.message}`);
    throw error;
  }
}

const dataUrlPattern = /^data:([^;,]*)((?:;[^;,]*)*),/i;
const base64Pattern = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeInline(text: string, rules: InputImageRules, refuse: (message: string) => Error): Uint8Array {
  let payload = text;
  const dataUrl = dataUrlPattern.exec(text);
  if (dataUrl) {
    const mediaType = (dataUrl[1] ?? '').toLowerCase();
    if (mediaType === 'image/svg+xml') throw refuse('SVG images are not accepted; send a PNG, JPEG or WebP');
    if (!/;base64$/i.test(dataUrl[2] ?? ''))
      throw refuse('a data: URL must be base64 (data:image/png;base64,…)');
    payload = text.slice(dataUrl[0].length);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !base64Pattern.test(text)) {
    throw refuse('must be an https URL, a data: URL or base64 image bytes');
  }
  payload = payload.replace(/\s+/g, '');
  // Checked on the text's length, before decoding: an oversized body costs no buffer.
  if (Math.floor((payload.length * 3) / 4) - 2 > rules.maxBytes) {
    throw refuse(`is larger than ${rules.maxBytes} bytes`);
  }
  if (payload.length === 0 || !base64Pattern.test(payload)) {
    throw refuse('must be an https URL, a data: URL or base64 image bytes');
  }
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.byteLength > rules.maxBytes) throw refuse(`is larger than ${rules.maxBytes} bytes`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function checkImage(bytes: Uint8Array, refuse: (message: string) => Error): Promise<InputImage> {
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) {
    const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1').toLowerCase();
    if (head.includes('<svg') || (head.startsWith('<?xml') && head.includes('svg')))
      throw refuse('SVG images are not accepted; send a PNG, JPEG or WebP');
    if (head.startsWith('gif8')) throw refuse('GIF images are not accepted; send a PNG, JPEG or WebP');
    throw refuse('is not a PNG, JPEG or WebP image');
  }
  // A PNG states its size in IHDR: read it ourselves, so a header claiming a canvas too large for any decoder
  // is named for what it is rather than as an undecodable file.
  if (mediaType === 'image/png' && bytes.byteLength >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkSize(view.getUint32(16), view.getUint32(20), refuse);
  }
  let metadata: Metadata;
  try {
    // The header only: no pixel is decoded yet.
    metadata = await sharp(bytes).metadata();
  } catch {
    throw refuse(`does not decode as a ${formatName(mediaType)} image`);
  }
  const { width, height, pages } = metadata;
  if (!width || !height) throw refuse(`does not decode as a ${formatName(mediaType)} image`);
  if ((pages ?? 1) > 1) throw refuse('animated images are not accepted; send a single frame');
  checkSize(width, height, refuse);
  try {
    // A full decode (streamed into a thumbnail, so memory stays small) proves the pixels are all there;
    // limitInputPixels holds even if the header lied.
    await sharp(bytes, { limitInputPixels: maximumInputPixels })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch {
    throw refuse(`is a damaged ${formatName(mediaType)} image`);
  }
  return { bytes, mediaType, width, height };
}

function checkSize(width: number, height: number, refuse: (message: string) => Error): void {
  if (width > maximumInputSide || height > maximumInputSide || width * height > maximumInputPixels) {
    throw refuse(`is ${width}x${height}; at most ${maximumInputSide} pixels a side`);
  }
}

function formatName(mediaType: InputImage['mediaType']): string {
  return { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP' }[mediaType];
}
