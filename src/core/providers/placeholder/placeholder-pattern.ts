import { blendDisc, type Canvas, hsl, type Rgb, radialTable } from './placeholder-canvas.ts';

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

/** A diagonal gradient under soft glows, discs and rings in related colours, darkened at the edges. */
export function paintPattern(canvas: Canvas, random: Random, hue: number): void {
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
  vignette(canvas);
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

/** Darkens towards the corners: no change inside 55% of 0.75 of the half-diagonal, half as bright at its end. */
function vignette(canvas: Canvas): void {
  const { width, height, pixels } = canvas;
  const steps = 2048;
  // Squared distance from the centre in image units tops out at 0.5 (a corner).
  const factor = new Int32Array(steps + 1);
  for (let step = 0; step <= steps; step++) {
    const distance = Math.sqrt((step / steps) * 0.5) / 0.75;
    const dark = Math.max(0, Math.min(1, (distance - 0.55) / 0.45)) * 0.5;
    factor[step] = Math.round((1 - dark) * 256);
  }
  const columnTerm = new Float32Array(width);
  for (let x = 0; x < width; x++) columnTerm[x] = ((x + 0.5) / width - 0.5) ** 2;
  const toStep = steps / 0.5;
  // Within 0.55 × 0.75 of the centre nothing darkens: each row skips that stretch.
  const untouched2 = (0.55 * 0.75) ** 2;
  for (let y = 0; y < height; y++) {
    const rowTerm = ((y + 0.5) / height - 0.5) ** 2;
    const half = untouched2 > rowTerm ? Math.sqrt(untouched2 - rowTerm) * width : -1;
    const skipFrom = half < 0 ? width : Math.max(0, Math.ceil(width / 2 - half));
    const skipTo = half < 0 ? width : Math.min(width, Math.floor(width / 2 + half));
    for (let x = 0; x < width; x++) {
      if (x === skipFrom) x = skipTo;
      if (x >= width) break;
      const keep = factor[(((columnTerm[x] as number) + rowTerm) * toStep) | 0] as number;
      if (keep >= 256) continue;
      const index = (y * width + x) * 3;
      pixels[index] = ((pixels[index] as number) * keep + 128) >> 8;
      pixels[index + 1] = ((pixels[index + 1] as number) * keep + 128) >> 8;
      pixels[index + 2] = ((pixels[index + 2] as number) * keep + 128) >> 8;
    }
  }
}
