import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { woffToSfnt } from './woff-to-sfnt.ts';

/**
 * The open fonts the prompt is drawn with (SIL Open Font License 1.1, shipped as npm packages): Noto Sans
 * for Latin, Greek and Cyrillic, Noto Sans Arabic for Arabic script, Sawarabi Gothic for Japanese and the
 * common CJK ideographs (a single-weight font: Noto's CJK packages are 30–80 MB). Pango (inside sharp's
 * libvips) shapes, breaks lines and lays out right-to-left text; it tries these families in this order
 * for each character, so the result depends on these files, not on the fonts a machine happens to have.
 */
const fontPackages = ['@fontsource/noto-sans', '@fontsource/noto-sans-arabic', '@fontsource/sawarabi-gothic'];
const fontFamilies = 'Noto Sans, Noto Sans Arabic, Sawarabi Gothic';

/** Scripts whose text runs right to left: a prompt starting in one of them sits at the panel's right edge. */
const rightToLeft = /\p{Script=Arabic}|\p{Script=Hebrew}|\p{Script=Syriac}|\p{Script=Thaana}|\p{Script=Nko}/u;

/** Text drawn as white-on-transparent RGBA, straight alpha, cropped to the lines it fills. */
export interface TextLayer {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** True when the text's first letter is from a right-to-left script. */
  rightToLeft: boolean;
}

/** What to draw and the box it must fit. */
export interface TextRequest {
  text: string;
  /** A second, dimmer line under the text. */
  details: string;
  fontPixels: number;
  maxWidth: number;
  maxHeight: number;
}

let registered: Promise<void> | undefined;

/**
 * Hands the fonts to fontconfig once per process. The packages' regular-weight WOFF files are unwrapped to
 * TrueType (see woff-to-sfnt.ts) into a folder under the OS temp folder named by their contents, built
 * aside and renamed into place so processes starting together never see half of it. libvips adds a
 * `fontfile` to fontconfig the first time it sees one, and fontconfig takes a folder there (scanned in
 * sorted order), so one tiny render registers them all. About 0.2 s, paid by the first image only.
 */
function registerFonts(): Promise<void> {
  registered ??= (async () => {
    const require = createRequire(import.meta.url);
    const fonts = fontPackages.flatMap((name) => {
      const folder = path.join(path.dirname(require.resolve(`${name}/package.json`)), 'files');
      return readdirSync(folder)
        .filter((file) => file.endsWith('-400-normal.woff'))
        .sort()
        .map((file) => path.join(folder, file));
    });
    const digest = createHash('sha256');
    for (const font of fonts) digest.update(`${path.basename(font)}:${statSync(font).size}\n`);
    const folder = path.join(tmpdir(), `imagine-placeholder-fonts-${digest.digest('hex').slice(0, 16)}`);
    if (!existsSync(folder)) {
      const staging = `${folder}.${process.pid}.${randomUUID()}`;
      mkdirSync(staging, { recursive: true });
      for (const font of fonts)
        writeFileSync(
          path.join(staging, `${path.basename(font, '.woff')}.ttf`),
          woffToSfnt(readFileSync(font)),
        );
      try {
        renameSync(staging, folder);
      } catch {
        // Another process got there first with the same files.
        rmSync(staging, { recursive: true, force: true });
      }
    }
    await sharp({ text: { text: '.', fontfile: folder, font: fontFamilies, rgba: true } })
      .raw()
      .toBuffer();
  })();
  return registered;
}

/** The text as one line of printable characters, whitespace runs collapsed, safe to put in Pango markup. */
function plainText(text: string): string {
  return (
    text
      // A lone surrogate is not UTF-8 that Pango could take.
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ')
      .trim()
  );
}

function escapeMarkup(text: string): string {
  return text.replace(/[&<>'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

async function render(
  text: string,
  details: string,
  request: TextRequest,
): Promise<{ data: Buffer; width: number; height: number }> {
  const markup =
    `<span foreground="#ffffff">${escapeMarkup(text)}</span>\n` +
    `<span foreground="#ffffff" fgalpha="60%" size="smaller">${escapeMarkup(details)}</span>`;
  const { data, info } = await sharp({
    text: {
      text: markup,
      font: `${fontFamilies} ${request.fontPixels}`,
      width: request.maxWidth,
      // 72 dpi: one point is one pixel, so the font size is in pixels.
      dpi: 72,
      rgba: true,
      wrap: 'word-char',
    },
  })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Draws `text` wrapped to `maxWidth` with the details line under it; when that is taller than `maxHeight`
 * the text is cut shorter, ending in an ellipsis, until it fits.
 */
export async function renderTextLayer(request: TextRequest): Promise<TextLayer> {
  await registerFonts();
  const characters = Array.from(plainText(request.text));
  const details = plainText(request.details);
  // A first cut by count (Latin glyphs average about half an em) spares Pango laying out 3,000 characters.
  const lines = Math.max(1, Math.floor(request.maxHeight / (request.fontPixels * 1.4)));
  let keep = Math.min(characters.length, Math.ceil((request.maxWidth / (request.fontPixels * 0.45)) * lines));
  let layer = await render(cut(characters, keep), details, request);
  for (let attempt = 0; attempt < 6 && layer.height > request.maxHeight && keep > 0; attempt++) {
    keep = Math.floor(keep * Math.min(0.9, request.maxHeight / layer.height));
    layer = await render(cut(characters, keep), details, request);
  }
  const firstLetter = characters.find((character) => /\p{L}/u.test(character)) ?? '';
  return {
    pixels: new Uint8Array(layer.data.buffer, layer.data.byteOffset, layer.data.length),
    width: layer.width,
    height: layer.height,
    rightToLeft: rightToLeft.test(firstLetter),
  };
}

function cut(characters: readonly string[], keep: number): string {
  if (keep >= characters.length) return characters.join('');
  return `${characters.slice(0, keep).join('').trimEnd()}…`;
}
