import { inflateSync } from 'node:zlib';

/**
 * Unwraps a WOFF 1.0 font into the TrueType/OpenType file inside it. The npm font packages ship WOFF, which
 * FreeType reads but HarfBuzz (Pango's shaper) does not, so Pango needs the plain font: WOFF is just each
 * table zlib-compressed behind a small directory (https://www.w3.org/TR/WOFF/), so this is a re-pack.
 */
export function woffToSfnt(woff: Uint8Array): Uint8Array {
  const input = new DataView(woff.buffer, woff.byteOffset, woff.byteLength);
  if (input.getUint32(0) !== 0x774f4646) throw new Error('not a WOFF 1.0 font');
  const flavor = input.getUint32(4);
  const tableCount = input.getUint16(12);
  const tables = Array.from({ length: tableCount }, (_, index) => {
    const entry = 44 + index * 20;
    const offset = input.getUint32(entry + 4);
    const compressedLength = input.getUint32(entry + 8);
    const length = input.getUint32(entry + 12);
    const stored = woff.subarray(offset, offset + compressedLength);
    return {
      tag: input.getUint32(entry),
      checksum: input.getUint32(entry + 16),
      data: compressedLength < length ? inflateSync(stored) : stored,
    };
  });
  const headerLength = 12 + 16 * tableCount;
  const padded = (length: number) => (length + 3) & ~3;
  const total = tables.reduce((sum, table) => sum + padded(table.data.length), headerLength);
  const output = new Uint8Array(total);
  const view = new DataView(output.buffer);
  const power = 2 ** Math.floor(Math.log2(Math.max(1, tableCount)));
  view.setUint32(0, flavor);
  view.setUint16(4, tableCount);
  view.setUint16(6, power * 16);
  view.setUint16(8, Math.log2(power));
  view.setUint16(10, tableCount * 16 - power * 16);
  let offset = headerLength;
  tables.forEach((table, index) => {
    const record = 12 + index * 16;
    view.setUint32(record, table.tag);
    view.setUint32(record + 4, table.checksum);
    view.setUint32(record + 8, offset);
    view.setUint32(record + 12, table.data.length);
    output.set(table.data, offset);
    offset += padded(table.data.length);
  });
  return output;
}
