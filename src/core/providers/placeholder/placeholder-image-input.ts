import { createHash } from 'node:crypto';
import sharp, { type Sharp } from 'sharp';
import { ImagineError, validationError } from '../../errors/imagine-error.ts';
import type { Canvas } from './placeholder-canvas.ts';
import {
  encodePng,
  type PlaceholderRequest,
  paintBanner,
  placeholderPattern,
  yieldToThreadPool,
} from './placeholder-render.ts';

/** Past this a side, an upscale would cost seconds and hundreds of megabytes (as for a generation). */
const largestSide = 4096;

/**
 * The placeholder's image-to-image: `input` resized to the requested size (covering it, centred) and
 * blended toward the pattern the same request would draw, by `strength` (0 = the input, 1 = the pattern),
 * under the PLACEHOLDER banner. The same input, request and strength always give the same bytes.
 */
export async function renderImageToImage(
  input: Uint8Array,
  request: PlaceholderRequest,
  strength: number,
): Promise<Uint8Array> {
  if (!(strength >= 0 && strength <= 1))
    throw validationError([
      { field: 'strength', message: `strength is a number from 0 to 1, not ${strength}` },
    ]);
  const { width, height } = request.size;
  // The input decodes on libuv's thread pool while this thread paints the pattern.
  const decoding = decodeRgb(input, (image) => image.resize(width, height, { fit: 'cover' }));
  decoding.catch(() => {});
  await yieldToThreadPool();
  const { canvas, hue } = placeholderPattern(request, 0);
  const source = await decoding;
  const toPattern = Math.round(strength * 256);
  const { pixels } = canvas;
  for (let index = 0; index < pixels.length; index++) {
    const from = source.pixels[index] as number;
    pixels[index] = from + ((((pixels[index] as number) - from) * toPattern + 128) >> 8);
  }
  paintBanner(canvas, hue);
  return encodePng(canvas);
}

/**
 * The placeholder's upscale: a real Lanczos (lanczos3) resize of `input` to `factor` times its size, under
 * the PLACEHOLDER banner in a colour taken from the input's bytes, so it stays the same for the same input.
 */
export async function renderUpscale(input: Uint8Array, factor: 2 | 4): Promise<Uint8Array> {
  if (factor !== 2 && factor !== 4)
    throw validationError([
      { field: 'factor', message: `the placeholder upscales by 2 or 4, not ${factor}` },
    ]);
  const canvas = await decodeRgb(input, async (image) => {
    const { width, height } = (await image.metadata()).autoOrient;
    if (width * factor > largestSide || height * factor > largestSide)
      throw validationError([
        {
          field: 'image',
          message: `a ${width}x${height} image upscaled ${factor}x would pass the placeholder's ${largestSide} px a side`,
        },
      ]);
    return image.resize(width * factor, height * factor, { kernel: 'lanczos3' });
  });
  const hue = (createHash('sha256').update(input).digest().readUInt32BE(0) / 2 ** 32) * 360;
  paintBanner(canvas, hue);
  return encodePng(canvas);
}

/** Decodes `input` (PNG, JPEG, WebP…; upright by its EXIF orientation, any transparency on black) to RGB. */
async function decodeRgb(
  input: Uint8Array,
  shape: (image: Sharp) => Sharp | Promise<Sharp>,
): Promise<Canvas> {
  let shaped: Sharp;
  try {
    shaped = await shape(sharp(input, { failOn: 'error' }).autoOrient());
  } catch (error) {
    if (ImagineError.isInstance(error)) throw error;
    throw notAnImage(error);
  }
  try {
    const { data, info } = await shaped
      .flatten({ background: '#000000' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      pixels: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (error) {
    throw notAnImage(error);
  }
}

function notAnImage(cause: unknown): Error {
  const error = validationError([
    { field: 'image', message: 'the input is not an image the placeholder can read' },
  ]);
  error.cause = cause;
  return error;
}
