import { describe, expect, it } from 'vitest';
import { renderTextLayer, type TextLayer } from './placeholder-text.ts';

const fontPixels = 28;

async function layer(text: string): Promise<TextLayer> {
  return renderTextLayer({ text, details: '', fontPixels, maxWidth: 1000, maxHeight: 500 });
}

/** The longest horizontal run of inked pixels: a missing glyph's box has a straight top nearly an em wide. */
function longestRun({ pixels, width, height }: TextLayer): number {
  let longest = 0;
  for (let y = 0; y < height; y++) {
    let run = 0;
    for (let x = 0; x < width; x++) {
      run = (pixels[(y * width + x) * 4 + 3] as number) > 128 ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
  }
  return longest;
}

describe('placeholder text', () => {
  it('draws a character no font has as a box, which the checks below would catch', async () => {
    expect(longestRun(await layer('\uE000\uE001\uE002'))).toBeGreaterThanOrEqual(fontPixels * 0.65);
  });

  it('draws Japanese with real glyphs: の is all curves, no missing-glyph box', async () => {
    expect(longestRun(await layer('のののの'))).toBeLessThan(fontPixels * 0.55);
  });

  it('shapes Arabic: the letters join along one baseline, right to left', async () => {
    const arabic = await layer('پپپپ');

    expect(longestRun(arabic)).toBeGreaterThan(fontPixels);
    expect(arabic.rightToLeft).toBe(true);
    expect((await layer('Pakistan')).rightToLeft).toBe(false);
  });

  it('cuts a prompt too long for its box so the text stays within it', async () => {
    const long = await renderTextLayer({
      text: 'lighthouse '.repeat(400),
      details: '1024×1024 · seed 7',
      fontPixels,
      maxWidth: 600,
      maxHeight: 200,
    });

    expect(long.height).toBeLessThanOrEqual(200);
    expect(long.width).toBeLessThanOrEqual(600);
  });
});
