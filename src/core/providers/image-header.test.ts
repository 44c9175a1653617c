import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from './image-header.ts';

const canvas = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 40, g: 160, b: 90, alpha: 0.5 } } });

/** Images as encoders write them, each with the size and type sharp reads from it. */
async function encodings(): Promise<[string, Buffer][]> {
  return Promise.all(
    Object.entries({
      'PNG, RGB': canvas(48, 32).png(),
      'PNG, RGBA, interlaced': canvas(640, 3, 4).png({ progressive: true }),
      'PNG, palette': canvas(17, 9).png({ palette: true }),
      'PNG, 16-bit grey': canvas(5, 300).greyscale().toColourspace('grey16').png(),
      'JPEG, baseline': canvas(1024, 768).jpeg(),
      'JPEG, progressive with EXIF and ICC': canvas(333, 77)
        .withMetadata({ exif: { IFD0: { Copyright: 'imagine' } } })
        .withIccProfile('srgb')
        .jpeg({ progressive: true }),
      'WebP, lossy': canvas(1000, 600).webp(),
      'WebP, lossless': canvas(129, 65).webp({ lossless: true }),
      'WebP, with alpha (VP8X)': canvas(300, 200, 4).webp(),
    }).map(async ([name, pipeline]) => [name, await pipeline.toBuffer()] as [string, Buffer]),
  );
}

const formats = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

describe('readImageHeader', () => {
  it('reads the type and size sharp reads, from PNG, JPEG and WebP as encoders write them', async () => {
    for (const [name, bytes] of await encodings()) {
      const { format, width, height } = await sharp(bytes).metadata();

      expect(readImageHeader(bytes), name).toEqual({
        mediaType: formats[format as keyof typeof formats],
        width,
        height,
      });
    }
  });

  it('reads nothing from bytes that only start like an image', async () => {
    const png = await canvas(48, 32).png().toBuffer();
    const jpeg = await canvas(48, 32).jpeg().toBuffer();
    const webp = await canvas(48, 32).webp().toBuffer();
    const corruptIhdr = Buffer.from(png);
    corruptIhdr[18] = (corruptIhdr[18] ?? 0) ^ 0xff; // a width byte, so IHDR's CRC no longer holds

    for (const [name, bytes] of Object.entries({
      'PNG signature then garbage': Buffer.concat([
        png.subarray(0, 8),
        Buffer.from('garbage after the signature'),
      ]),
      'PNG cut inside IHDR': png.subarray(0, 20),
      'PNG whose IHDR fails its CRC': corruptIhdr,
      'JPEG with no frame header': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xd9]),
      'JPEG cut before its frame header': jpeg.subarray(0, 20),
      'WebP cut after the RIFF header': webp.subarray(0, 16),
      'WebP with an unknown first chunk': Buffer.concat([
        webp.subarray(0, 12),
        Buffer.from('ABCD\x0a\0\0\0'),
        Buffer.alloc(10),
      ]),
      'not an image': Buffer.from('not an image'),
    })) {
      expect(readImageHeader(bytes), name).toBeUndefined();
    }
  });
});
