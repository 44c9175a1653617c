import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { ImagineError, validationError } from '../../errors/imagine-error.ts';
import type {
  GenerationWarning,
  ImageModel,
  ImageModelCallOptions,
  ImageModelResult,
} from '../image-model.ts';
import {
  ellipsisCharacter,
  glyphHeight,
  glyphRectsFor,
  glyphWidth,
  toPixelFontCharacters,
} from './pixel-font.ts';

/** The id of the offline model that draws a labelled pattern instead of calling an AI provider. */
export const placeholderModelId = 'placeholder';

/** How long the placeholder pretends to work, and the clock behind `response.timestamp`. */
export interface PlaceholderImageModelSettings {
  delayMs: number;
  now?: () => Date;
}

/** Past this a side, a mistaken size would cost seconds and hundreds of megabytes to draw. */
const largestSide = 4096;
const bannerText = 'PLACEHOLDER';
const subtitleText = 'OFFLINE PREVIEW - NOT AI-GENERATED';
/** One character cell: the glyph plus a one-pixel gap. */
const cellWidth = glyphWidth + 1;
/** One text line: the glyph plus a three-pixel gap. */
const lineHeight = glyphHeight + 3;
const mostPromptLines = 8;

/**
 * The offline default model: after `delayMs` (to feel like a provider) it draws a PNG of the requested
 * size with a pattern chosen by prompt, seed and style, a PLACEHOLDER banner and the prompt itself.
 * It needs no network and no fonts, and the same request always gives the same bytes.
 */
export function createPlaceholderImageModel(settings: PlaceholderImageModelSettings): ImageModel {
  const now = settings.now ?? (() => new Date());
  return {
    provider: 'placeholder',
    modelId: placeholderModelId,
    maxImagesPerCall: 1,
    async generate(options: ImageModelCallOptions): Promise<ImageModelResult> {
      checkSize(options.size.width, options.size.height);
      await abortableDelay(settings.delayMs, options.abortSignal, options.onProgress);
      const images: ImageModelResult['images'] = [];
      for (let offset = 0; offset < options.n; offset++) {
        options.abortSignal?.throwIfAborted();
        images.push({
          bytes: await renderPng(options, offset),
          mediaType: 'image/png',
          dimensions: options.size,
        });
      }
      return {
        images,
        warnings: warningsFor(options),
        response: {
          modelId: placeholderModelId,
          timestamp: now(),
          providerRequestId: undefined,
          revisedPrompt: undefined,
        },
        usage: { costUsd: 0 },
      };
    },
  };
}

function checkSize(width: number, height: number): void {
  const fits = (side: number) => Number.isInteger(side) && side >= 1 && side <= largestSide;
  if (fits(width) && fits(height)) return;
  throw validationError([
    {
      field: 'size',
      message: `the placeholder draws whole sides of 1 to ${largestSide} pixels, not ${width}x${height}`,
    },
  ]);
}

function warningsFor(options: ImageModelCallOptions): GenerationWarning[] {
  if (options.negativePrompt === undefined) return [];
  return [
    {
      type: 'unsupported',
      feature: 'negative_prompt',
      detail:
        'The placeholder draws a pattern, not a picture of the prompt, so a negative prompt changes nothing.',
    },
  ];
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (as `fetch` does). */
/** Steps a wait reports its progress in, so a newcomer sees "Generating… 40%" as with a real backend. */
const progressSteps = 10;

/** Waits `ms` (ending early with the signal's reason when aborted), telling `onProgress` as it goes. */
function abortableDelay(
  ms: number,
  signal: AbortSignal | undefined,
  onProgress: ((progress: number) => void) | undefined,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let step = 0;
    const ticker = onProgress
      ? setInterval(() => {
          step++;
          if (step < progressSteps) onProgress(step / progressSteps);
        }, ms / progressSteps)
      : undefined;
    const onAbort = () => {
      clearTimeout(timer);
      clearInterval(ticker);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      clearInterval(ticker);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function renderPng(options: ImageModelCallOptions, offset: number): Promise<Uint8Array> {
  const svg = buildSvg(options, offset);
  try {
    // Fixed encoder settings and no metadata: the same SVG always encodes to the same bytes.
    return await sharp(Buffer.from(svg))
      .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
      .toBuffer();
  } catch (error) {
    throw new ImagineError(
      'generation_failed',
      'The placeholder image could not be drawn',
      {},
      { cause: error },
    );
  }
}

type Random = () => number;

/** mulberry32: a tiny, well-mixed 32-bit PRNG, plenty for picking colours and positions. */
function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Image `offset` of a call uses seed + offset, as the core numbers a batch; unseeded calls still differ by offset. */
function randomFor(options: ImageModelCallOptions, offset: number): Random {
  const seed = options.seed === undefined ? ['unseeded', offset] : (options.seed + offset) % 2 ** 32;
  const key = JSON.stringify([options.prompt, seed, options.style?.name ?? null]);
  return mulberry32(createHash('sha256').update(key).digest().readUInt32BE(0));
}

/** `#rrggbb` for a hue in degrees and saturation and lightness from 0 to 1. */
function hsl(hue: number, saturation: number, lightness: number): string {
  const h = ((hue % 360) + 360) % 360;
  const chroma = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    const value = lightness - chroma * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

function buildSvg(options: ImageModelCallOptions, offset: number): string {
  const { width, height } = options.size;
  const random = randomFor(options, offset);
  const hue = random() * 360;
  const seedLabel = options.seed === undefined ? 'NONE' : String((options.seed + offset) % 2 ** 32);
  const details = [`${width}X${height}`, `SEED ${seedLabel}`];
  if (options.style) details.push(`STYLE ${options.style.name}`);
  // The prompt reaches the SVG only as rectangles, never as text, so nothing in it needs XML escaping.
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    pattern(random, hue, width, height),
    banner(hue, width, height),
    promptPanel(options.prompt, details.join(' | '), width, height),
    '</svg>',
  ].join('');
}

/** A diagonal gradient under soft glows, discs and rings in related colours, darkened at the edges. */
function pattern(random: Random, hue: number, width: number, height: number): string {
  const angle = random() * Math.PI * 2;
  const dx = Math.cos(angle) / 2;
  const dy = Math.sin(angle) / 2;
  const spread = 25 + random() * 50;
  const defs: string[] = [
    `<linearGradient id="bg" x1="${fixed(0.5 - dx)}" y1="${fixed(0.5 - dy)}" x2="${fixed(0.5 + dx)}" y2="${fixed(0.5 + dy)}">`,
    `<stop offset="0" stop-color="${hsl(hue, 0.55, 0.16)}"/>`,
    `<stop offset="0.55" stop-color="${hsl(hue + spread, 0.6, 0.38)}"/>`,
    `<stop offset="1" stop-color="${hsl(hue + 2 * spread, 0.55, 0.26)}"/></linearGradient>`,
    '<radialGradient id="vignette" r="0.75"><stop offset="0.55" stop-color="#000" stop-opacity="0"/>',
    '<stop offset="1" stop-color="#000" stop-opacity="0.5"/></radialGradient>',
  ];
  const shapes: string[] = [];
  const shortSide = Math.min(width, height);
  const count = 12 + Math.floor(random() * 10);
  for (let index = 0; index < count; index++) {
    const complementary = random() < 0.25 ? 180 : 0;
    const colour = hsl(
      hue + complementary + (random() - 0.5) * 90,
      0.55 + random() * 0.35,
      0.45 + random() * 0.25,
    );
    const cx = Math.round(random() * width);
    const cy = Math.round(random() * height);
    const radius = Math.round(shortSide * (0.04 + random() ** 2 * 0.32));
    const kind = random();
    if (kind < 0.4) {
      defs.push(
        `<radialGradient id="glow${index}"><stop offset="0" stop-color="${colour}" stop-opacity="0.75"/>`,
        `<stop offset="1" stop-color="${colour}" stop-opacity="0"/></radialGradient>`,
      );
      shapes.push(`<circle cx="${cx}" cy="${cy}" r="${radius * 1.6}" fill="url(#glow${index})"/>`);
    } else if (kind < 0.75) {
      const opacity = fixed(0.2 + random() * 0.35);
      shapes.push(`<circle cx="${cx}" cy="${cy}" r="${radius}" fill="${colour}" fill-opacity="${opacity}"/>`);
    } else {
      const stroke = Math.max(2, Math.round(radius * (0.05 + random() * 0.1)));
      const opacity = fixed(0.35 + random() * 0.4);
      shapes.push(
        `<circle cx="${cx}" cy="${cy}" r="${radius}" fill="none" stroke="${colour}" stroke-width="${stroke}" stroke-opacity="${opacity}"/>`,
      );
    }
  }
  return [
    `<defs>${defs.join('')}</defs>`,
    `<rect width="${width}" height="${height}" fill="url(#bg)"/>`,
    ...shapes,
    `<rect width="${width}" height="${height}" fill="url(#vignette)"/>`,
  ].join('');
}

/** A dark band across the upper middle with PLACEHOLDER in large type and a line saying what this is. */
function banner(hue: number, width: number, height: number): string {
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
  const title = textRects(bannerCharacters, 0, 0, scale);
  const shadow = Math.max(1, Math.round(scale / 4));
  const subtitleLeft = Math.round((width - textWidth(subtitleCharacters.length) * subtitleScale) / 2);
  const subtitleTop = titleTop + glyphHeight * scale + gap;
  return [
    `<rect y="${bandTop}" width="${width}" height="${bandHeight}" fill="#000" fill-opacity="0.55"/>`,
    `<rect y="${bandTop}" width="${width}" height="${edge}" fill="${accent}"/>`,
    `<rect y="${bandTop + bandHeight - edge}" width="${width}" height="${edge}" fill="${accent}"/>`,
    '<g shape-rendering="crispEdges">',
    `<g fill="#000" fill-opacity="0.5" transform="translate(${titleLeft + shadow} ${titleTop + shadow})">${title}</g>`,
    `<g fill="#fff" transform="translate(${titleLeft} ${titleTop})">${title}</g>`,
    `<g fill="${accent}">${textRects(subtitleCharacters, subtitleLeft, subtitleTop, subtitleScale)}</g>`,
    '</g>',
  ].join('');
}

/** A dark panel along the bottom with the prompt, wrapped and cut with an ellipsis, over a dimmer details line. */
function promptPanel(prompt: string, details: string, width: number, height: number): string {
  const scale = Math.max(2, Math.floor(Math.min(width, height) / 220));
  const margin = Math.round(Math.min(width, height) * 0.04);
  const padding = 3 * scale;
  const perLine = Math.max(1, Math.floor((width - 2 * margin - 2 * padding + scale) / (cellWidth * scale)));
  const rowsThatFit = Math.floor((height * 0.4 - 2 * padding + 3 * scale) / (lineHeight * scale));
  const promptLines = wrap(
    toPixelFontCharacters(prompt),
    perLine,
    Math.max(1, Math.min(mostPromptLines, rowsThatFit - 1)),
  );
  const detailLine = wrap(toPixelFontCharacters(details), perLine, 1);
  const rows = promptLines.length + detailLine.length;
  const panelHeight = 2 * padding + rows * lineHeight * scale - 3 * scale;
  const panelTop = height - margin - panelHeight;
  const left = margin + padding;
  const lineTop = (row: number) => panelTop + padding + row * lineHeight * scale;
  const promptRects = promptLines.map((line, row) => textRects(line, left, lineTop(row), scale)).join('');
  const detailRects = detailLine
    .map((line) => textRects(line, left, lineTop(promptLines.length), scale))
    .join('');
  return [
    `<rect x="${margin}" y="${panelTop}" width="${width - 2 * margin}" height="${panelHeight}" rx="${2 * scale}" fill="#000" fill-opacity="0.6"/>`,
    '<g shape-rendering="crispEdges">',
    `<g fill="#fff">${promptRects}</g>`,
    `<g fill="#fff" fill-opacity="0.6">${detailRects}</g>`,
    '</g>',
  ].join('');
}

/** Width in font pixels of `length` characters in a row (no gap after the last). */
function textWidth(length: number): number {
  return Math.max(0, length * cellWidth - 1);
}

/** Each glyph as merged runs of pixels: a handful of rectangles per character, not one per pixel. */
function textRects(characters: readonly string[], left: number, top: number, scale: number): string {
  let out = '';
  characters.forEach((character, index) => {
    const x = left + index * cellWidth * scale;
    for (const rect of glyphRectsFor(character)) {
      out += `<rect x="${x + rect.x * scale}" y="${top + rect.y * scale}" width="${rect.width * scale}" height="${rect.height * scale}"/>`;
    }
  });
  return out;
}

/**
 * Breaks text into lines of at most `perLine` characters at spaces (splitting words too long for a line),
 * and when more than `maxLines` are needed, ends the last one kept with an ellipsis.
 */
function wrap(characters: readonly string[], perLine: number, maxLines: number): string[][] {
  const words = characters
    .join('')
    .split(' ')
    .filter((word) => word.length > 0)
    .map((word) => Array.from(word));
  const lines: string[][] = [];
  let line: string[] = [];
  for (const word of words) {
    let rest = word;
    while (rest.length > 0) {
      const needed = line.length === 0 ? rest.length : line.length + 1 + rest.length;
      if (needed <= perLine) {
        line = line.length === 0 ? rest : [...line, ' ', ...rest];
        rest = [];
      } else if (line.length === 0) {
        lines.push(rest.slice(0, perLine));
        rest = rest.slice(perLine);
      } else {
        lines.push(line);
        line = [];
      }
    }
  }
  if (line.length > 0) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1] ?? [];
  const cut = last.slice(0, Math.max(0, perLine - 1));
  while (cut.at(-1) === ' ') cut.pop();
  kept[maxLines - 1] = [...cut, ellipsisCharacter];
  return kept;
}

function fixed(value: number): string {
  return value.toFixed(3);
}
