import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { ImagineError } from '../../errors/imagine-error.ts';
import type { ImageModelCallOptions } from '../image-model.ts';
import { glyphHeight, glyphRectsFor, glyphWidth, toPixelFontCharacters } from './pixel-font.ts';
import { blendRgba, type Canvas, createCanvas, fillRect, hsl, type Rgb } from './placeholder-canvas.ts';
import { mulberry32, paintPattern, type Random } from './placeholder-pattern.ts';
import { renderTextLayer, type TextLayer } from './placeholder-text.ts';

const bannerText = 'PLACEHOLDER';
const subtitleText = 'OFFLINE PREVIEW - NOT AI-GENERATED';
/** One character cell: the glyph plus a one-pixel gap. */
const cellWidth = glyphWidth + 1;
const black: Rgb = [0, 0, 0];
const white: Rgb = [255, 255, 255];

/** What a placeholder picture is drawn from: the parts of a call that change what it shows. */
export type PlaceholderRequest = Pick<ImageModelCallOptions, 'prompt' | 'seed' | 'size' | 'style'>;

/** Image `offset` of a call uses seed + offset, as the core numbers a batch; unseeded calls still differ by offset. */
function randomFor(request: PlaceholderRequest, offset: number): Random {
  const seed = request.seed === undefined ? ['unseeded', offset] : (request.seed + offset) % 2 ** 32;
  const key = JSON.stringify([request.prompt, seed, request.style?.name ?? null]);
  return mulberry32(createHash('sha256').update(key).digest().readUInt32BE(0));
}

/** The pattern alone (no banner, no text) for image `offset` of a request, and the hue it was drawn in. */
export function placeholderPattern(
  request: PlaceholderRequest,
  offset: number,
): { canvas: Canvas; hue: number } {
  const random = randomFor(request, offset);
  const hue = random() * 360;
  const canvas = createCanvas(request.size.width, request.size.height);
  paintPattern(canvas, random, hue);
  return { canvas, hue };
}

/** Image `offset` of a request: pattern, PLACEHOLDER banner, and a panel with the prompt and its details. */
export async function renderPlaceholder(request: PlaceholderRequest, offset: number): Promise<Canvas> {
  const layout = panelLayout(request.size.width, request.size.height);
  // Pango lays the text out on libuv's thread pool while this thread paints the pattern.
  const text = renderTextLayer({
    ...layout.text,
    text: request.prompt,
    details: detailsFor(request, offset),
  });
  await yieldToThreadPool();
  const { canvas, hue } = placeholderPattern(request, offset);
  paintBanner(canvas, hue);
  paintPromptPanel(canvas, layout, await text);
  return canvas;
}

/** Lets queued promise work (such as a sharp call waiting on a resolved promise) start before a long synchronous stretch. */
export function yieldToThreadPool(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function detailsFor(request: PlaceholderRequest, offset: number): string {
  const { width, height } = request.size;
  const seed = request.seed === undefined ? 'none' : String((request.seed + offset) % 2 ** 32);
  const details = [`${width}×${height}`, `seed ${seed}`];
  if (request.style) details.push(`style ${request.style.name}`);
  return details.join(' · ');
}

/**
 * PNG bytes of a canvas. Fixed settings and no metadata, so the same pixels always give the same bytes.
 * Compression level 1 with no row filters encodes a 1024² image in ~6 ms; level 6 with adaptive filters
 * made files about a third smaller but took ~20 ms more, most of this renderer's time budget.
 */
export async function encodePng(canvas: Canvas): Promise<Uint8Array> {
  try {
    const bytes = await sharp(canvas.pixels, {
      raw: { width: canvas.width, height: canvas.height, channels: 3 },
    })
      .png({ compressionLevel: 1, adaptiveFiltering: false, palette: false })
      .toBuffer();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  } catch (error) {
    throw new ImagineError(
      'generation_failed',
      'The placeholder image could not be drawn',
      {},
      { cause: error },
    );
  }
}

/** Width in font pixels of `length` characters in a row (no gap after the last). */
function textWidth(length: number): number {
  return Math.max(0, length * cellWidth - 1);
}

/** Pixel-font characters as filled rectangles, `scale` canvas pixels per font pixel. */
function paintPixelText(
  canvas: Canvas,
  characters: readonly string[],
  left: number,
  top: number,
  scale: number,
  colour: Rgb,
  opacity = 1,
): void {
  characters.forEach((character, index) => {
    const x = left + index * cellWidth * scale;
    for (const rect of glyphRectsFor(character)) {
      fillRect(
        canvas,
        x + rect.x * scale,
        top + rect.y * scale,
        rect.width * scale,
        rect.height * scale,
        colour,
        opacity,
      );
    }
  });
}

/** A dark band across the upper middle with PLACEHOLDER in large type and a line saying what this is. */
export function paintBanner(canvas: Canvas, hue: number): void {
  const { width, height } = canvas;
  const bannerCharacters = toPixelFontCharacters(bannerText);
  const scale = Math.max(
    1,
    Math.min(
      Math.floor((width * 0.72) / textWidth(bannerCharacters.length)),
      Math.floor((height * 0.09) / glyphHeight),
    ),
  );
  const subtitleCharacters = toPixelFontCharacters(subtitleText);
  const subtitleScale = Math.max(
    1,
    Math.min(Math.ceil(scale / 4), Math.floor((width * 0.9) / textWidth(subtitleCharacters.length))),
  );
  const padding = 2 * scale;
  const gap = Math.round(scale * 1.5);
  const bandHeight = padding * 2 + glyphHeight * scale + gap + glyphHeight * subtitleScale;
  const bandTop = Math.round(height * 0.38 - bandHeight / 2);
  const accent = hsl(hue + 180, 0.7, 0.6);
  const edge = Math.max(2, Math.round(scale / 3));
  const titleLeft = Math.round((width - textWidth(bannerCharacters.length) * scale) / 2);
  const titleTop = bandTop + padding;
  const shadow = Math.max(1, Math.round(scale / 4));
  const subtitleLeft = Math.round((width - textWidth(subtitleCharacters.length) * subtitleScale) / 2);
  const subtitleTop = titleTop + glyphHeight * scale + gap;
  fillRect(canvas, 0, bandTop, width, bandHeight, black, 0.55);
  fillRect(canvas, 0, bandTop, width, edge, accent);
  fillRect(canvas, 0, bandTop + bandHeight - edge, width, edge, accent);
  paintPixelText(canvas, bannerCharacters, titleLeft + shadow, titleTop + shadow, scale, black, 0.5);
  paintPixelText(canvas, bannerCharacters, titleLeft, titleTop, scale, white);
  paintPixelText(canvas, subtitleCharacters, subtitleLeft, subtitleTop, subtitleScale, accent);
}

/** Where the prompt panel sits and the box its text must fit, for an image of this size. */
function panelLayout(width: number, height: number) {
  const shortSide = Math.min(width, height);
  const margin = Math.round(shortSide * 0.04);
  const padding = Math.max(4, Math.round(shortSide * 0.018));
  const fontPixels = Math.max(8, Math.round(shortSide / 36));
  const maxWidth = Math.max(1, width - 2 * margin - 2 * padding);
  const maxHeight = Math.max(fontPixels * 2, Math.floor(height * 0.4) - 2 * padding);
  return { margin, padding, text: { fontPixels, maxWidth, maxHeight } };
}

/** A dark panel along the bottom with the prompt in a real font, wrapped and cut with an ellipsis, over a dimmer details line. */
function paintPromptPanel(canvas: Canvas, layout: ReturnType<typeof panelLayout>, layer: TextLayer): void {
  const { width, height } = canvas;
  const { margin, padding } = layout;
  const panelHeight = layer.height + 2 * padding;
  const panelTop = height - margin - panelHeight;
  fillRoundedRect(canvas, margin, panelTop, width - 2 * margin, panelHeight, Math.round(padding * 0.7), 0.6);
  const left = layer.rightToLeft ? margin + padding + layout.text.maxWidth - layer.width : margin + padding;
  blendRgba(canvas, layer.pixels, layer.width, layer.height, left, panelTop + padding);
}

/** A black rectangle at `opacity` whose corners are rounded to `radius`, each row inset along the arc. */
function fillRoundedRect(
  canvas: Canvas,
  left: number,
  top: number,
  width: number,
  height: number,
  radius: number,
  opacity: number,
): void {
  const corner = Math.min(radius, Math.floor(width / 2), Math.floor(height / 2));
  for (let row = 0; row < height; row++) {
    const fromEdge = Math.min(row, height - 1 - row);
    const rise = corner - fromEdge - 0.5;
    const inset =
      fromEdge < corner ? Math.round(corner - Math.sqrt(Math.max(0, corner * corner - rise * rise))) : 0;
    fillRect(canvas, left + inset, top + row, width - 2 * inset, 1, black, opacity);
  }
}
