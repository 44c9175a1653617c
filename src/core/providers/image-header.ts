import { crc32 } from 'node:zlib';
import type { GeneratedImage } from './image-model.ts';

/** What an image's header says: its type and size, read without decoding a pixel. */
export interface ImageHeader {
  mediaType: GeneratedImage['mediaType'];
  width: number;
  height: number;
}

/**
 * The type and size a PNG, JPEG or WebP states in its header, checked as strictly as a decoder reading
 * the header would (PNG's IHDR with its CRC, JPEG's frame header, WebP's VP8/VP8L/VP8X chunk); undefined
 * when the bytes do not hold such a header. A few microseconds, where sharp's metadata() is a round trip
 * through libuv's thread pool and libvips (~0.15 ms a call, the largest share of an A1111 answer's cost).
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (startsWith(bytes, pngSignature)) return readPng(bytes);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return readJpeg(bytes);
  if (startsWith(bytes, riff) && startsWith(bytes, webp, 8)) return readWebp(bytes);
  return undefined;
}

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const riff = [0x52, 0x49, 0x46, 0x46];
const webp = [0x57, 0x45, 0x42, 0x50];

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  return (
    bytes.byteLength >= at + signature.length && signature.every((byte, index) => bytes[at + index] === byte)
  );
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A little-endian 24-bit number (VP8X's canvas sides). */
function uint24(bytes: Uint8Array, at: number): number {
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16);
}

/** A four-character chunk name (`IHDR`, `VP8 `), without spreading a subarray into fromCharCode. */
function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}

/** Bit depths each PNG colour type allows (PNG spec, table 11.1). */
const pngBitDepths: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/** The first chunk is IHDR (13 bytes): width, height, bit depth, colour type, three zeros or interlace 1. */
function readPng(bytes: Uint8Array): ImageHeader | undefined {
  const ihdrEnd = 8 + 4 + 4 + 13 + 4;
  if (bytes.byteLength < ihdrEnd) return undefined;
  const data = view(bytes);
  if (data.getUint32(8) !== 13 || fourCC(bytes, 12) !== 'IHDR') return undefined;
  if (crc32(bytes.subarray(12, 12 + 4 + 13)) !== data.getUint32(29)) return undefined;
  const width = data.getUint32(16);
  const height = data.getUint32(20);
  const [bitDepth, colourType, compression, filter, interlace] = bytes.subarray(24, 29);
  const depths = pngBitDepths[colourType ?? -1];
  const valid =
    depths?.includes(bitDepth ?? -1) === true && compression === 0 && filter === 0 && (interlace ?? 2) <= 1;
  // The spec caps each side at 2³¹ − 1.
  if (!valid || width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return undefined;
  return { mediaType: 'image/png', width, height };
}

/** Markers without a length: TEM and RST0–7 (SOI was read already). */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/** SOF0–SOF15 carry the frame's size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
function isFrameHeader(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Walks the segments after SOI to the frame header (SOFn), before any scan (SOS) or the end (EOI). */
function readJpeg(bytes: Uint8Array): ImageHeader | undefined {
  const data = view(bytes);
  let at = 2;
  while (at + 1 < bytes.byteLength) {
    if (bytes[at] !== 0xff) return undefined;
    // Any number of 0xFF may pad before a marker.
    while (at < bytes.byteLength && bytes[at] === 0xff) at++;
    const marker = bytes[at];
    at++;
    if (marker === undefined || marker === 0xd9 || marker === 0xda || marker === 0xd8) return undefined;
    if (isStandalone(marker)) continue;
    if (at + 2 > bytes.byteLength) return undefined;
    const length = data.getUint16(at);
    if (length < 2 || at + length > bytes.byteLength) return undefined;
    if (isFrameHeader(marker)) {
      // Length, precision, height, width, component count (one to four, three bytes each).
      if (length < 8) return undefined;
      const height = data.getUint16(at + 3);
      const width = data.getUint16(at + 5);
      const components = bytes[at + 7] ?? 0;
      if (width === 0 || height === 0 || components < 1 || components > 4) return undefined;
      if (length < 8 + 3 * components) return undefined;
      return { mediaType: 'image/jpeg', width, height };
    }
    at += length;
  }
  return undefined;
}

/** The first chunk after `WEBP`: lossy (`VP8 `), lossless (`VP8L`) or extended (`VP8X`, the canvas size). */
function readWebp(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.byteLength < 30) return undefined;
  const data = view(bytes);
  const chunk = fourCC(bytes, 12);
  const chunkLength = data.getUint32(16, true);
  if (20 + chunkLength > bytes.byteLength) return undefined;
  let width: number;
  let height: number;
  if (chunk === 'VP8 ') {
    // A key frame (bit 0 of the frame tag clear), its start code, then 14-bit sides and 2-bit scales.
    if (chunkLength < 10 || ((bytes[20] ?? 1) & 1) !== 0) return undefined;
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return undefined;
    width = data.getUint16(26, true) & 0x3fff;
    height = data.getUint16(28, true) & 0x3fff;
  } else if (chunk === 'VP8L') {
    // The signature byte, then width − 1 and height − 1 in 14 bits each, then alpha and a zero version.
    if (chunkLength < 5 || bytes[20] !== 0x2f) return undefined;
    const bits = data.getUint32(21, true);
    if (bits >>> 29 !== 0) return undefined;
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8X') {
    // Flags and reserved bytes, then the canvas's width − 1 and height − 1 in 24 bits each.
    if (chunkLength < 10) return undefined;
    width = uint24(bytes, 24) + 1;
    height = uint24(bytes, 27) + 1;
  } else {
    return undefined;
  }
  if (width === 0 || height === 0) return undefined;
  return { mediaType: 'image/webp', width, height };
}
