import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { GeneratedImage, ImageDimensions } from '../providers/image-model.ts';

/** What made an image, as PNG-info tools read it back. */
export interface ImageParameters {
  /** The prompt as sent to the model. */
  prompt: string;
  negativePrompt: string | undefined;
  seed: number | undefined;
  size: ImageDimensions;
  model: string;
  /** image-to-image: how far it moved from its init image (A1111's `Denoising strength`). */
  strength: number | undefined;
}

/**
 * The AUTOMATIC1111 `parameters` text: the prompt, `Negative prompt: …` when there is one, then one line of
 * `Key: value` pairs. Keys we do not know (steps, sampler) are left out rather than guessed.
 */
export function parametersText(parameters: ImageParameters): string {
  const lines = [parameters.prompt];
  if (parameters.negativePrompt) lines.push(`Negative prompt: ${parameters.negativePrompt}`);
  const settings = [
    ...(parameters.seed === undefined ? [] : [`Seed: ${parameters.seed}`]),
    `Size: ${parameters.size.width}x${parameters.size.height}`,
    `Model: ${parameters.model}`,
    ...(parameters.strength === undefined ? [] : [`Denoising strength: ${parameters.strength}`]),
  ];
  lines.push(settings.join(', '));
  return lines.join('\n');
}

/**
 * The image's bytes carrying its parameters: a PNG gets a `parameters` text chunk inserted as is (no
 * re-encode: a few microseconds); a JPEG or WebP is re-encoded once with the text as EXIF UserComment.
 * Bytes that do not parse as their type are returned unchanged: the image matters more than its label.
 */
export async function embedParameters(
  image: GeneratedImage,
  parameters: ImageParameters,
): Promise<Uint8Array> {
  const text = parametersText(parameters);
  if (image.mediaType === 'image/png') {
    // AUTOMATIC1111 writes its own, with the steps and sampler we cannot know: that one is kept.
    if (hasPngText(image.bytes, 'parameters')) return image.bytes;
    return withPngText(image.bytes, 'parameters', text) ?? image.bytes;
  }
  try {
    const pipeline = sharp(image.bytes).withExif({ IFD2: { UserComment: text } });
    const encoded =
      image.mediaType === 'image/jpeg'
        ? await pipeline.jpeg({ quality: 95 }).toBuffer()
        : await pipeline.webp({ quality: 95 }).toBuffer();
    return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  } catch {
    return image.bytes;
  }
}

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The signature, then IHDR: 4 length + 4 type + 13 data + 4 CRC. */
const afterHeader = 8 + 4 + 4 + 13 + 4;

/**
 * `png` with a text chunk right after IHDR (where readers that stop early still find it): `tEXt` when the
 * text is Latin-1, as the PNG spec requires of it, else `iTXt` (UTF-8). Undefined when `png` is not a PNG.
 * Written into one buffer: every image the service delivers passes here, and a buffer per part cost more
 * than the copy.
 */
export function withPngText(png: Uint8Array, keyword: string, text: string): Uint8Array | undefined {
  const isPng =
    png.byteLength > afterHeader &&
    pngSignature.every((byte, index) => png[index] === byte) &&
    chunkType(png, 8) === 'IHDR';
  if (!isPng) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Latin-1 is exactly U+0000–U+00FF
  const latin1 = /^[\u0000-\u00ff]*$/.test(text);
  // tEXt: keyword \0 text. iTXt: keyword \0, compression flag and method, empty language and translated
  // keyword (each \0-ended), then the UTF-8 text.
  const head = latin1 ? `${keyword}\0` : `${keyword}\0\0\0\0\0`;
  const textBytes = latin1 ? text.length : Buffer.byteLength(text, 'utf8');
  const dataLength = head.length + textBytes;
  const out = Buffer.allocUnsafe(png.byteLength + 12 + dataLength);
  out.set(png.subarray(0, afterHeader), 0);
  let at = afterHeader;
  out.writeUInt32BE(dataLength, at);
  out.write(latin1 ? 'tEXt' : 'iTXt', at + 4, 'latin1');
  out.write(head, at + 8, 'latin1');
  out.write(text, at + 8 + head.length, latin1 ? 'latin1' : 'utf8');
  at += 8 + dataLength;
  out.writeUInt32BE(crc32(out.subarray(afterHeader + 4, at)), at);
  out.set(png.subarray(afterHeader), at + 4);
  return out;
}

/** Whether a PNG already has a text chunk (`tEXt`, `zTXt`, `iTXt`) of this keyword; reads chunk headers only. */
function hasPngText(png: Uint8Array, keyword: string): boolean {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let offset = 8; offset + 12 <= png.byteLength; ) {
    const length = view.getUint32(offset);
    const type = chunkType(png, offset);
    if (type === 'IEND') return false;
    if (
      (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') &&
      startsWithKeyword(png, offset + 8, keyword)
    )
      return true;
    offset += 12 + length;
  }
  return false;
}

/** Whether the chunk data at `offset` begins with `keyword` and its \0 (keywords are Latin-1). */
function startsWithKeyword(png: Uint8Array, offset: number, keyword: string): boolean {
  if (offset + keyword.length >= png.byteLength) return false;
  for (let index = 0; index < keyword.length; index++) {
    if (png[offset + index] !== keyword.charCodeAt(index)) return false;
  }
  return png[offset + keyword.length] === 0;
}

/** Every `tEXt` and `iTXt` (uncompressed) entry of a PNG, by keyword: what PNG-info tools show. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const entries: Record<string, string> = {};
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  for (let offset = 8; offset + 12 <= view.byteLength; ) {
    const length = view.readUInt32BE(offset);
    const type = chunkType(png, offset);
    const data = view.subarray(offset + 8, offset + 8 + length);
    const separator = data.indexOf(0);
    if (separator > 0 && type === 'tEXt') {
      entries[data.subarray(0, separator).toString('latin1')] = data
        .subarray(separator + 1)
        .toString('latin1');
    } else if (separator > 0 && type === 'iTXt' && data[separator + 1] === 0) {
      // keyword \0 compression-flag compression-method language \0 translated-keyword \0 text
      const language = data.indexOf(0, separator + 3);
      const translated = data.indexOf(0, language + 1);
      entries[data.subarray(0, separator).toString('latin1')] = data
        .subarray(translated + 1)
        .toString('utf8');
    }
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return entries;
}

function chunkType(png: Uint8Array, offset: number): string {
  return String.fromCharCode(
    png[offset + 4] as number,
    png[offset + 5] as number,
    png[offset + 6] as number,
    png[offset + 7] as number,
  );
}
