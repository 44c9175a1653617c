import type { ImageDimensions } from '../providers/image-model.ts';

/** The aspect ratios the API accepts (docs/api.md). */
export const aspectRatios = [
  '1:1',
  '16:9',
  '9:16',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
  '4:5',
  '5:4',
  '21:9',
  '9:21',
] as const;
/** One of the accepted aspect ratios. */
export type AspectRatio = (typeof aspectRatios)[number];

/** The smallest and largest side the API accepts, in pixels. */
export const minimumSide = 256;
export const maximumSide = 2048;
// Image models work in blocks of 16 pixels; sizes off that grid get cropped or padded by providers.
const sideStep = 16;

/** `1024x768` → `{ width: 1024, height: 768 }`; undefined when the text is not WIDTHxHEIGHT. */
export function parseSize(text: string): ImageDimensions | undefined {
  const match = /^(\d{1,5})x(\d{1,5})$/i.exec(text.trim());
  if (!match) return undefined;
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** `{ width: 1024, height: 768 }` → `1024x768`. */
export function formatSize(size: ImageDimensions): string {
  return `${size.width}x${size.height}`;
}

/**
 * The pixel size to produce. Without an aspect ratio it is `size` as asked. With one, the shape follows the
 * ratio and `size` sets the pixel budget (width × height), rounded to the 16-pixel grid and kept in range.
 */
export function resolveDimensions(
  size: ImageDimensions,
  aspectRatio: AspectRatio | undefined,
): ImageDimensions {
  if (!aspectRatio) return size;
  const [ratioWidth, ratioHeight] = aspectRatio.split(':').map(Number) as [number, number];
  const ratio = ratioWidth / ratioHeight;
  const budget = size.width * size.height;
  let width = Math.sqrt(budget * ratio);
  let height = width / ratio;
  // Keep the shape when a side would leave the allowed range: scale both sides together.
  const shrink = Math.min(1, maximumSide / Math.max(width, height));
  width *= shrink;
  height *= shrink;
  const grow = Math.max(1, minimumSide / Math.min(width, height));
  width *= grow;
  height *= grow;
  return { width: snapSide(width), height: snapSide(height) };
}

function snapSide(side: number): number {
  const snapped = Math.round(side / sideStep) * sideStep;
  return Math.min(maximumSide, Math.max(minimumSide, snapped));
}

/** The accepted aspect ratio a size has exactly (1024x1024 → 1:1), if any. */
export function aspectRatioOf(size: ImageDimensions): AspectRatio | undefined {
  return aspectRatios.find((candidate) => {
    const [ratioWidth, ratioHeight] = candidate.split(':').map(Number) as [number, number];
    return size.width * ratioHeight === size.height * ratioWidth;
  });
}

/** About the pixels of 1024x1024: what a size derived from an input image aims at (the default size's budget). */
const inputPixelBudget = 1024 * 1024;

/**
 * The size to make from an input image: its own shape, scaled to at most about 1024x1024 worth of pixels,
 * kept within 256–2048 a side and on the 16-pixel grid (a photo of 4000x3000 becomes 1184x880).
 */
export function sizeFromInput(input: ImageDimensions): ImageDimensions {
  const shrink = Math.min(
    1,
    Math.sqrt(inputPixelBudget / (input.width * input.height)),
    maximumSide / Math.max(input.width, input.height),
  );
  let width = input.width * shrink;
  let height = input.height * shrink;
  const grow = Math.max(1, minimumSide / Math.min(width, height));
  width *= grow;
  height *= grow;
  return { width: snapSide(width), height: snapSide(height) };
}
