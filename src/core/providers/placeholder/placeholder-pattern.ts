import { blendDisc, type Canvas, createCanvas, hsl, type Rgb, radialTable } from './placeholder-canvas.ts';

/** A deterministic source of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: a tiny, well-mixed 32-bit PRNG, plenty for picking colours and positions. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A diagonal gradient under soft glows, discs and rings in related colours, darkened at the edges. From
 * 512 px a side the shapes are painted at half size and enlarged bilinearly: the picture is all soft
 * gradients, and a quarter of the pixels cost a quarter of the time. Even sides (the usual sizes) are
 * darkened at half size and doubled in one fused pass, about a third of the general resampler's time.
 */
export function paintPattern(canvas: Canvas, random: Random, hue: number): void {
  if (Math.min(canvas.width, canvas.height) < 512) {
    paintShapes(canvas, random, hue);
    enlargeWithVignette(canvas, canvas);
    return;
  }
  const half = halfCanvas(Math.ceil(canvas.width / 2), Math.ceil(canvas.height / 2));
  paintShapes(half, random, hue);
  if (canvas.width % 2 === 0 && canvas.height % 2 === 0) {
    darkenWithVignette(half);
    doubleBilinear(half, canvas);
    return;
  }
  enlargeWithVignette(half, canvas);
}

/** Past this many bytes (a 2048² image's half canvas) the scratch buffer is not kept between images. */
const scratchLimit = 1024 * 1024 * 3;
let scratch: Uint8Array | undefined;

/**
 * The half-size canvas, in a buffer reused from image to image: it never leaves paintPattern (which runs
 * to the end without awaiting), and paintBackground writes every pixel, so nothing of the last image shows.
 * Reusing it spares a zero-filled allocation and its page faults per image.
 */
function halfCanvas(width: number, height: number): Canvas {
  const bytes = width * height * 3;
  if (bytes > scratchLimit) return createCanvas(width, height);
  if (!scratch || scratch.length < bytes) scratch = new Uint8Array(bytes);
  return { width, height, pixels: scratch.subarray(0, bytes) };
}

function paintShapes(canvas: Canvas, random: Random, hue: number): void {
  paintBackground(canvas, random, hue);
  const { width, height } = canvas;
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
      const outer = radius * 1.6;
      blendDisc(
        canvas,
        cx,
        cy,
        outer,
        colour,
        radialTable(outer, (distance) => 0.75 * (1 - distance)),
      );
    } else if (kind < 0.75) {
      const opacity = 0.2 + random() * 0.35;
      // Full opacity inside, fading over the last pixel: an anti-aliased edge.
      const edge = 1 / (radius + 0.5);
      blendDisc(
        canvas,
        cx,
        cy,
        radius + 0.5,
        colour,
        radialTable(radius + 0.5, (distance) => opacity * Math.min(1, (1 - distance) / edge)),
      );
    } else {
      const stroke = Math.max(2, Math.round(radius * (0.05 + random() * 0.1)));
      const opacity = 0.35 + random() * 0.4;
      const outer = radius + stroke / 2 + 0.5;
      blendDisc(
        canvas,
        cx,
        cy,
        outer,
        colour,
        radialTable(outer, (distance) => {
          const fromLine = Math.abs(distance * outer - radius);
          return opacity * Math.max(0, Math.min(1, stroke / 2 + 0.5 - fromLine));
        }),
        Math.max(0, radius - stroke / 2 - 1),
      );
    }
  }
}

/** Three stops along a random direction, looked up from a 1024-entry table rather than mixed per pixel. */
function paintBackground(canvas: Canvas, random: Random, hue: number): void {
  const { width, height, pixels } = canvas;
  const angle = random() * Math.PI * 2;
  const dx = Math.cos(angle) / 2;
  const dy = Math.sin(angle) / 2;
  const spread = 25 + random() * 50;
  const stops: readonly (readonly [number, Rgb])[] = [
    [0, hsl(hue, 0.55, 0.16)],
    [0.55, hsl(hue + spread, 0.6, 0.38)],
    [1, hsl(hue + 2 * spread, 0.55, 0.26)],
  ];
  const steps = 1023;
  const table = new Uint8Array((steps + 1) * 3);
  for (let step = 0; step <= steps; step++) {
    const t = step / steps;
    const upper = t <= 0.55 ? 1 : 2;
    const [fromOffset, from] = stops[upper - 1] as readonly [number, Rgb];
    const [toOffset, to] = stops[upper] as readonly [number, Rgb];
    const mix = (t - fromOffset) / (toOffset - fromOffset);
    for (let channel = 0; channel < 3; channel++)
      table[step * 3 + channel] = Math.round(
        (from[channel] as number) + ((to[channel] as number) - (from[channel] as number)) * mix,
      );
  }
  // Position along the direction, in the image's own units as SVG's objectBoundingBox would have it.
  const length2 = 4 * (dx * dx + dy * dy);
  const perX = (2 * dx) / (width * length2);
  const perY = (2 * dy) / (height * length2);
  const start = -((0.5 - dx) * 2 * dx + (0.5 - dy) * 2 * dy) / length2;
  for (let y = 0; y < height; y++) {
    let t = start + (y + 0.5) * perY + 0.5 * perX;
    let index = y * width * 3;
    for (let x = 0; x < width; x++, index += 3, t += perX) {
      const step = t <= 0 ? 0 : t >= 1 ? steps : (t * steps + 0.5) | 0;
      pixels[index] = table[step * 3] as number;
      pixels[index + 1] = table[step * 3 + 1] as number;
      pixels[index + 2] = table[step * 3 + 2] as number;
    }
  }
}

/** For each target pixel along one axis: the two source pixels it lies between, and the second's weight of 16. */
function samplePlan(
  source: number,
  target: number,
): { low: Int32Array; high: Int32Array; weight: Int32Array } {
  const low = new Int32Array(target);
  const high = new Int32Array(target);
  const weight = new Int32Array(target);
  for (let index = 0; index < target; index++) {
    const at = Math.max(0, Math.min(source - 1, ((index + 0.5) * source) / target - 0.5));
    low[index] = Math.floor(at);
    high[index] = Math.min(source - 1, Math.floor(at) + 1);
    weight[index] = Math.round((at - Math.floor(at)) * 16);
  }
  return { low, high, weight };
}

/** The vignette's brightness (out of 256) by squared distance from the centre, 0 to 0.5 in 2048 steps. */
const vignetteSteps = 2048;
const vignette = (() => {
  const factor = new Int32Array(vignetteSteps + 1);
  for (let step = 0; step <= vignetteSteps; step++) {
    const distance = Math.sqrt((step / vignetteSteps) * 0.5) / 0.75;
    const dark = Math.max(0, Math.min(1, (distance - 0.55) / 0.45)) * 0.5;
    factor[step] = Math.round((1 - dark) * 256);
  }
  return factor;
})();
/** Squared distance (image units) within which the vignette leaves pixels as they are: (0.55 × 0.75)². */
const untouched2 = (0.55 * 0.75) ** 2;

/**
 * Darkens `canvas` towards the corners as enlargeWithVignette does, in place. Done on the half-size canvas
 * before doubling, it touches a quarter of the pixels; the vignette is smooth enough that darkening before
 * or after the bilinear step differs by at most a level or two.
 */
function darkenWithVignette(canvas: Canvas): void {
  const { width, height, pixels } = canvas;
  const toStep = vignetteSteps / 0.5;
  for (let y = 0; y < height; y++) {
    const rowTerm = ((y + 0.5) / height - 0.5) ** 2;
    // The middle of the row, inside the untouched circle, is left alone.
    const reach = untouched2 - rowTerm > 0 ? Math.sqrt(untouched2 - rowTerm) : -1;
    const skipFrom = reach < 0 ? width : Math.max(0, Math.ceil((0.5 - reach) * width - 0.5));
    const skipTo = reach < 0 ? width : Math.min(width, Math.floor((0.5 + reach) * width - 0.5));
    let index = y * width * 3;
    for (let x = 0; x < width; x++, index += 3) {
      if (x === skipFrom && skipTo > skipFrom) {
        index += (skipTo - x) * 3;
        x = skipTo;
        if (x >= width) break;
      }
      const keep = vignette[((((x + 0.5) / width - 0.5) ** 2 + rowTerm) * toStep) | 0] as number;
      if (keep === 256) continue;
      pixels[index] = ((pixels[index] as number) * keep + 128) >> 8;
      pixels[index + 1] = ((pixels[index + 1] as number) * keep + 128) >> 8;
      pixels[index + 2] = ((pixels[index + 2] as number) * keep + 128) >> 8;
    }
  }
}

/**
 * Writes `source` at exactly twice its size into `target`, bilinear with pixel centres aligned (each target
 * pixel is 9:3:3:1 of its four nearest source pixels, edges clamped): the same pixels as enlargeWithVignette's
 * sampling at 2×, in one pass that reads each source pixel about once per target row pair.
 */
function doubleBilinear(source: Canvas, target: Canvas): void {
  const { width, height, pixels: from } = source;
  const out = target.pixels;
  const stride = width * 3;
  const outStride = target.width * 3;
  const last = stride - 3;
  for (let row = 0; row < height; row++) {
    const above = Math.max(0, row - 1) * stride;
    const middle = row * stride;
    const below = Math.min(height - 1, row + 1) * stride;
    let top = 2 * row * outStride;
    let bottom = top + outStride;
    // Column sums (×4) of the upper target row (above + 3 × middle) and the lower one (3 × middle + below),
    // for the previous, current and next source columns.
    let cr = 3 * (from[middle] as number);
    let cg = 3 * (from[middle + 1] as number);
    let cb = 3 * (from[middle + 2] as number);
    let tr = (from[above] as number) + cr;
    let tg = (from[above + 1] as number) + cg;
    let tb = (from[above + 2] as number) + cb;
    let br = cr + (from[below] as number);
    let bg = cg + (from[below + 1] as number);
    let bb = cb + (from[below + 2] as number);
    let ptr = tr;
    let ptg = tg;
    let ptb = tb;
    let pbr = br;
    let pbg = bg;
    let pbb = bb;
    for (let at = 0; at < stride; at += 3, top += 6, bottom += 6) {
      const next = at < last ? at + 3 : at;
      const mr = 3 * (from[middle + next] as number);
      const mg = 3 * (from[middle + next + 1] as number);
      const mb = 3 * (from[middle + next + 2] as number);
      const ntr = (from[above + next] as number) + mr;
      const ntg = (from[above + next + 1] as number) + mg;
      const ntb = (from[above + next + 2] as number) + mb;
      const nbr = mr + (from[below + next] as number);
      const nbg = mg + (from[below + next + 1] as number);
      const nbb = mb + (from[below + next + 2] as number);
      const t3r = 3 * tr + 8;
      const t3g = 3 * tg + 8;
      const t3b = 3 * tb + 8;
      const b3r = 3 * br + 8;
      const b3g = 3 * bg + 8;
      const b3b = 3 * bb + 8;
      out[top] = (ptr + t3r) >> 4;
      out[top + 1] = (ptg + t3g) >> 4;
      out[top + 2] = (ptb + t3b) >> 4;
      out[top + 3] = (t3r + ntr) >> 4;
      out[top + 4] = (t3g + ntg) >> 4;
      out[top + 5] = (t3b + ntb) >> 4;
      out[bottom] = (pbr + b3r) >> 4;
      out[bottom + 1] = (pbg + b3g) >> 4;
      out[bottom + 2] = (pbb + b3b) >> 4;
      out[bottom + 3] = (b3r + nbr) >> 4;
      out[bottom + 4] = (b3g + nbg) >> 4;
      out[bottom + 5] = (b3b + nbb) >> 4;
      ptr = tr;
      ptg = tg;
      ptb = tb;
      pbr = br;
      pbg = bg;
      pbb = bb;
      tr = ntr;
      tg = ntg;
      tb = ntb;
      br = nbr;
      bg = nbg;
      bb = nbb;
      cr = mr;
      cg = mg;
      cb = mb;
    }
  }
}

/**
 * Writes `source` enlarged (bilinear) into `target`, darkened towards the corners on the way: no change
 * within 55% of 0.75 of the half-diagonal, half as bright at its end (an SVG radial gradient's look).
 * `source` may be `target` itself (same size): a source row is widened before any of it is overwritten.
 */
function enlargeWithVignette(source: Canvas, target: Canvas): void {
  const { width, height, pixels } = target;
  const from = source.pixels;
  const steps = 2048;
  // Squared distance from the centre in image units tops out at 0.5 (a corner).
  const factor = new Int32Array(steps + 1);
  for (let step = 0; step <= steps; step++) {
    const distance = Math.sqrt((step / steps) * 0.5) / 0.75;
    const dark = Math.max(0, Math.min(1, (distance - 0.55) / 0.45)) * 0.5;
    // Out of 256, with the bilinear weights' 16 × 16 folded in.
    factor[step] = Math.round((1 - dark) * 256);
  }
  const columnTerm = new Float32Array(width);
  for (let x = 0; x < width; x++) columnTerm[x] = ((x + 0.5) / width - 0.5) ** 2;
  const toStep = steps / 0.5;
  const columns = samplePlan(source.width, width);
  const rows = samplePlan(source.height, height);
  // Source rows widened to the target's width (×16), two at a time: each is widened once, not per use.
  const widened = [new Int32Array(width * 3), new Int32Array(width * 3)];
  const holds = [-1, -1];
  const widen = (row: number): Int32Array => {
    const slot = holds[0] === row ? 0 : holds[1] === row ? 1 : (holds[0] as number) < row - 1 ? 0 : 1;
    const out = widened[slot] as Int32Array;
    if (holds[slot] === row) return out;
    holds[slot] = row;
    const base = row * source.width * 3;
    for (let x = 0, index = 0; x < width; x++, index += 3) {
      const left = base + (columns.low[x] as number) * 3;
      const right = base + (columns.high[x] as number) * 3;
      const across = columns.weight[x] as number;
      const stay = 16 - across;
      out[index] = (from[left] as number) * stay + (from[right] as number) * across;
      out[index + 1] = (from[left + 1] as number) * stay + (from[right + 1] as number) * across;
      out[index + 2] = (from[left + 2] as number) * stay + (from[right + 2] as number) * across;
    }
    return out;
  };
  for (let y = 0; y < height; y++) {
    const rowTerm = ((y + 0.5) / height - 0.5) ** 2;
    const upper = widen(rows.low[y] as number);
    const lower = widen(rows.high[y] as number);
    const down = rows.weight[y] as number;
    const up = 16 - down;
    let index = y * width * 3;
    for (let x = 0, at = 0; x < width; x++, index += 3, at += 3) {
      const keep = factor[(((columnTerm[x] as number) + rowTerm) * toStep) | 0] as number;
      pixels[index] = (((upper[at] as number) * up + (lower[at] as number) * down) * keep + 32768) >> 16;
      pixels[index + 1] =
        (((upper[at + 1] as number) * up + (lower[at + 1] as number) * down) * keep + 32768) >> 16;
      pixels[index + 2] =
        (((upper[at + 2] as number) * up + (lower[at + 2] as number) * down) * keep + 32768) >> 16;
    }
  }
}
