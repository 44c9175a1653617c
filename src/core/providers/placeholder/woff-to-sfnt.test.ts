import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { woffToSfnt } from './woff-to-sfnt.ts';

const require = createRequire(import.meta.url);
const fontFile = (name: string, file: string) =>
  readFileSync(path.join(path.dirname(require.resolve(`${name}/package.json`)), 'files', file));

/** The sfnt's table directory: tag → [offset, length]. */
function tables(font: Uint8Array): Map<string, [number, number]> {
  const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
  const found = new Map<string, [number, number]>();
  for (let index = 0; index < view.getUint16(4); index++) {
    const record = 12 + index * 16;
    const tag = String.fromCharCode(...font.subarray(record, record + 4));
    found.set(tag, [view.getUint32(record + 8), view.getUint32(record + 12)]);
  }
  return found;
}

describe('woffToSfnt', () => {
  it.each([
    ['@fontsource/noto-sans', 'noto-sans-latin-400-normal.woff'],
    ['@fontsource/noto-sans-arabic', 'noto-sans-arabic-arabic-400-normal.woff'],
    ['@fontsource/sawarabi-gothic', 'sawarabi-gothic-japanese-400-normal.woff'],
  ])('unwraps %s %s into a TrueType font HarfBuzz can read', (name, file) => {
    const woff = fontFile(name, file);

    const font = woffToSfnt(woff);

    const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
    expect(view.getUint32(0)).toBe(woff.readUInt32BE(4));
    expect(view.getUint16(4)).toBe(woff.readUInt16BE(12));
    expect(font.length).toBeGreaterThan(woff.length);
    const directory = tables(font);
    for (const tag of ['cmap', 'head', 'hhea', 'hmtx', 'maxp', 'name']) expect(directory.has(tag)).toBe(true);
    // The head table's magic number sits at byte 12 of that table.
    const [headOffset] = directory.get('head') ?? [0];
    expect(view.getUint32(headOffset + 12)).toBe(0x5f0f3cf5);
    for (const [offset, length] of directory.values()) {
      expect(offset % 4).toBe(0);
      expect(offset + length).toBeLessThanOrEqual(font.length);
    }
  });

  it('refuses bytes that are not WOFF 1.0', () => {
    expect(() => woffToSfnt(new TextEncoder().encode('wOF2 is not supported'))).toThrow(
      'not a WOFF 1.0 font',
    );
  });
});
