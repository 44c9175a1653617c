/**
 * The placeholder's speed targets (issue 12): a 1024² image under 30 ms (also with a prompt in three scripts,
 * issue 16), a 2×2 grid of 1024² images under
 * 100 ms, an image-to-image at 1024² under 50 ms. Each is the median of rounds alternating with the baseline,
 * sharp encoding a plain PNG of the same size, so a noisy machine slows both alike and the ratio stays readable.
 */
import sharp from 'sharp';
import { composeGrid } from '../src/core/chat/image-grid.ts';
import {
  renderImageToImage,
  renderUpscale,
} from '../src/core/providers/placeholder/placeholder-image-input.ts';
import { createPlaceholderImageModel } from '../src/core/providers/placeholder/placeholder-image-model.ts';
import { modelCallOptions } from '../src/test-support/model-call-options.ts';

const side = 1024;

/** One measured operation: its median time and the baseline's median over the same rounds. */
export interface PlaceholderFigure {
  name: string;
  medianMs: number;
  baselineMs: number;
  targetMs: number | undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Measures each operation in `rounds` rounds, each round timing the plain PNG encode first, then the operation. */
export async function runPlaceholderBenchmark(rounds = 30): Promise<PlaceholderFigure[]> {
  const model = createPlaceholderImageModel({ delayMs: 0 });
  const plain = await sharp({
    create: { width: side, height: side, channels: 3, background: { r: 40, g: 90, b: 160 } },
  })
    .raw()
    .toBuffer();
  const encodePlain = () =>
    sharp(plain, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer();
  let seed = 0;
  const render = async () => {
    seed++;
    const result = await model.generate(modelCallOptions({ seed, size: { width: side, height: side } }));
    return result.images[0]?.bytes ?? new Uint8Array();
  };
  // Three scripts, one of them right to left: Pango falls back across all three fonts and shapes Arabic.
  const renderScripts = async () => {
    seed++;
    const result = await model.generate(
      modelCallOptions({ prompt: 'Café … پاکستان … 日本の灯台', seed, size: { width: side, height: side } }),
    );
    return result.images[0]?.bytes ?? new Uint8Array();
  };
  const four = await Promise.all([1, 2, 3, 4].map(() => render()));
  const input = four[0] ?? new Uint8Array();
  const small = await sharp(input)
    .resize(side / 2, side / 2)
    .png()
    .toBuffer();
  const request = {
    prompt: 'a lighthouse on a cliff at sunset',
    seed: 7,
    size: { width: side, height: side },
    style: undefined,
  };
  const operations: [string, number | undefined, () => Promise<unknown>][] = [
    ['placeholder 1024x1024', 30, render],
    ['  Latin, Arabic, Japanese', 30, renderScripts],
    ['2x2 grid of 1024x1024', 100, () => composeGrid(four)],
    ['image-to-image 1024x1024', 50, () => renderImageToImage(input, { ...request, seed: seed++ }, 0.6)],
    ['upscale 512x512 2x', undefined, () => renderUpscale(small, 2)],
  ];
  const figures: PlaceholderFigure[] = [];
  for (const [name, targetMs, work] of operations) {
    // Warm-up: the first image registers the fonts (~0.2 s, once per process).
    for (let round = 0; round < 3; round++) await work();
    const baseline: number[] = [];
    const measured: number[] = [];
    for (let round = 0; round < rounds; round++) {
      baseline.push(await timed(encodePlain));
      measured.push(await timed(work));
    }
    figures.push({ name, medianMs: median(measured), baselineMs: median(baseline), targetMs });
  }
  return figures;
}

/** Runs the benchmark and prints it in bench/run.ts's style, adding any missed target to `failures`. */
export async function reportPlaceholderBenchmark(failures: string[]): Promise<void> {
  const figures = await runPlaceholderBenchmark();
  console.log('\nPlaceholder model (median of 30 rounds, each beside sharp encoding a plain 1024x1024 PNG)');
  for (const figure of figures) {
    const ratio = figure.medianMs / figure.baselineMs;
    const target = figure.targetMs === undefined ? '' : `   (target < ${figure.targetMs} ms)`;
    console.log(
      `  ${figure.name.padEnd(26)} ${figure.medianMs.toFixed(1).padStart(6)} ms   ${ratio.toFixed(1).padStart(5)}× the plain PNG encode (${figure.baselineMs.toFixed(1)} ms)${target}`,
    );
    if (figure.targetMs !== undefined && figure.medianMs >= figure.targetMs)
      failures.push(`${figure.name} at or above ${figure.targetMs} ms`);
  }
}
