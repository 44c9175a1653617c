/**
 * A tiny RGB canvas the placeholder paints into directly: a few typed-array loops cost a fraction of what
 * rasterising the same picture from SVG did (a 1024² pattern in a few milliseconds instead of ~50), and
 * plain integer/float arithmetic gives the same bytes on every run.
 */
export interface Canvas {
  width: number;
  height: number;
  /** Row-major RGB, three bytes a pixel. */
  pixels: Uint8Array;
}

/** An RGB colour, each channel 0–255. */
export type Rgb = readonly [number, number, number];

export function createCanvas(width: number, height: number): Canvas {
  return { width, height, pixels: new Uint8Array(width * height * 3) };
}

/** RGB for a hue in degrees and saturation and lightness from 0 to 1. */
export function hsl(hue: number, saturation: number, lightness: number): Rgb {
  const h = ((hue % 360) + 360) % 360;
  const chroma = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round((lightness - chroma * Math.max(-1, Math.min(k - 3, 9 - k, 1))) * 255);
  };
  return [channel(0), channel(8), channel(4)];
}

/** Fills an axis-aligned rectangle (clipped to the canvas) with `colour` at `opacity`. */
export function fillRect(
  canvas: Canvas,
  left: number,
  top: number,
  width: number,
  height: number,
  colour: Rgb,
  opacity = 1,
): void {
  const x0 = Math.max(0, Math.round(left));
  const y0 = Math.max(0, Math.round(top));
  const x1 = Math.min(canvas.width, Math.round(left + width));
  const y1 = Math.min(canvas.height, Math.round(top + height));
  if (x1 <= x0 || y1 <= y0) return;
  const { pixels } = canvas;
  const [r, g, b] = colour;
  const keep = 1 - opacity;
  // The colour's share (and the rounding) is the same for every pixel: once, not per channel per pixel.
  const addRed = r * opacity + 0.5;
  const addGreen = g * opacity + 0.5;
  const addBlue = b * opacity + 0.5;
  for (let y = y0; y < y1; y++) {
    let index = (y * canvas.width + x0) * 3;
    const end = (y * canvas.width + x1) * 3;
    if (opacity >= 1) {
      for (; index < end; index += 3) {
        pixels[index] = r;
        pixels[index + 1] = g;
        pixels[index + 2] = b;
      }
    } else {
      for (; index < end; index += 3) {
        pixels[index] = (pixels[index] as number) * keep + addRed;
        pixels[index + 1] = (pixels[index + 1] as number) * keep + addGreen;
        pixels[index + 2] = (pixels[index + 2] as number) * keep + addBlue;
      }
    }
  }
}

/**
 * Blends a circle of `colour` whose opacity at distance² d2 from the centre is `alphaAt[q] / 256`, q being
 * d2 / radius² scaled to the table's length: one table lookup a pixel instead of a square root, and integer
 * arithmetic throughout. Pixels nearer the centre than `hollow` are left alone (a ring's inside).
 */
export function blendDisc(
  canvas: Canvas,
  centreX: number,
  centreY: number,
  radius: number,
  colour: Rgb,
  alphaAt: Int32Array,
  hollow = 0,
): void {
  const { width, height, pixels } = canvas;
  const [r, g, b] = colour;
  const radius2 = radius * radius;
  const hollow2 = hollow * hollow;
  const steps = alphaAt.length - 1;
  const toStep = steps / radius2;
  const y0 = Math.max(0, Math.floor(centreY - radius));
  const y1 = Math.min(height - 1, Math.ceil(centreY + radius));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - centreY;
    const dy2 = dy * dy;
    const rest = radius2 - dy2;
    if (rest <= 0) continue;
    const span = Math.sqrt(rest);
    const x0 = Math.max(0, Math.floor(centreX - span));
    const x1 = Math.min(width - 1, Math.ceil(centreX + span));
    // Inside a ring's hole every pixel has opacity 0: jump over it.
    const hole = hollow2 > dy2 ? Math.sqrt(hollow2 - dy2) : -1;
    const skipFrom = hole < 0 ? x1 + 1 : Math.ceil(centreX - hole);
    const skipTo = hole < 0 ? x1 + 1 : Math.floor(centreX + hole);
    const row = y * width;
    if (skipTo > skipFrom) {
      blendSpan(pixels, row, x0, skipFrom - 1, centreX, dy2, toStep, alphaAt, r, g, b);
      blendSpan(pixels, row, skipTo, x1, centreX, dy2, toStep, alphaAt, r, g, b);
    } else blendSpan(pixels, row, x0, x1, centreX, dy2, toStep, alphaAt, r, g, b);
  }
}

/** blendDisc along one row, from column `first` to `last` inclusive. */
function blendSpan(
  pixels: Uint8Array,
  row: number,
  first: number,
  last: number,
  centreX: number,
  dy2: number,
  toStep: number,
  alphaAt: Int32Array,
  r: number,
  g: number,
  b: number,
): void {
  const steps = alphaAt.length - 1;
  let index = (row + first) * 3;
  for (let x = first; x <= last; x++, index += 3) {
    const dx = x + 0.5 - centreX;
    const step = ((dx * dx + dy2) * toStep) | 0;
    if (step >= steps) continue;
    const alpha = alphaAt[step] as number;
    if (alpha === 0) continue;
    const red = pixels[index] as number;
    const green = pixels[index + 1] as number;
    const blue = pixels[index + 2] as number;
    pixels[index] = red + (((r - red) * alpha + 128) >> 8);
    pixels[index + 1] = green + (((g - green) * alpha + 128) >> 8);
    pixels[index + 2] = blue + (((b - blue) * alpha + 128) >> 8);
  }
}

/** Opacity (0–256) by squared distance for a circle: `profile(d)` with d the distance as a fraction of the radius. */
export function radialTable(radius: number, profile: (distance: number) => number): Int32Array {
  // About two entries per pixel of radius keeps edges smooth without a big table per shape.
  const steps = Math.max(64, Math.min(8192, Math.ceil(radius * radius * 2)));
  const table = new Int32Array(steps + 1);
  for (let step = 0; step <= steps; step++)
    table[step] = Math.round(Math.max(0, Math.min(1, profile(Math.sqrt(step / steps)))) * 256);
  return table;
}

/**
 * Blends an RGBA overlay (straight alpha, as libvips renders text) onto the canvas at (left, top),
 * clipped to the canvas.
 */
export function blendRgba(
  canvas: Canvas,
  overlay: Uint8Array,
  overlayWidth: number,
  overlayHeight: number,
  left: number,
  top: number,
): void {
  const { width, height, pixels } = canvas;
  for (let y = 0; y < overlayHeight; y++) {
    const canvasY = top + y;
    if (canvasY < 0 || canvasY >= height) continue;
    for (let x = 0; x < overlayWidth; x++) {
      const canvasX = left + x;
      if (canvasX < 0 || canvasX >= width) continue;
      const source = (y * overlayWidth + x) * 4;
      const alpha = (overlay[source + 3] as number) / 255;
      if (alpha === 0) continue;
      const target = (canvasY * width + canvasX) * 3;
      for (let channel = 0; channel < 3; channel++) {
        const below = pixels[target + channel] as number;
        pixels[target + channel] = below + ((overlay[source + channel] as number) - below) * alpha + 0.5;
      }
    }
  }
}
