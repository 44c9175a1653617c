import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { temporaryDataDir } from '../../test-support/test-services.ts';

let testApp: TestApp;
let images: string;
let png: Buffer;
const outside = temporaryDataDir();
fs.writeFileSync(path.join(outside, 'secret.txt'), 'the operator’s secret');

beforeEach(async () => {
  testApp = await createTestApp();
  images = path.join(testApp.services.config.dataDir, 'images');
  png = await sharp({ create: { width: 4, height: 3, channels: 3, background: '#c0ffee' } })
    .png()
    .toBuffer();
  fs.mkdirSync(path.join(images, 'alice'), { recursive: true });
  fs.writeFileSync(path.join(images, 'alice', 'one.png'), png);
});
afterEach(async () => {
  await testApp.close();
});
afterAll(() => {
  fs.rmSync(outside, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
  testApp.app.inject({ method, url, headers });

function expectNotFound(response: Awaited<ReturnType<typeof get>>, url: string): void {
  expect(response.statusCode, url).toBe(404);
  expect(response.headers['content-type'], url).toMatch(/^application\/json/);
  expect(response.json(), url).toEqual({ error: 'not_found', message: expect.any(String) });
  expect(response.body, url).not.toContain('SQLite');
  expect(response.body, url).not.toContain('secret');
}

describe('GET /images/*', () => {
  it('serves a stored image as image/png with nosniff, year-long immutable caching and validators', async () => {
    const response = await get('/images/alice/one.png');
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(png)).toBe(true);
    expect(response.headers).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(png.length),
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
    });
    expect(response.headers.etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(Date.parse(String(response.headers['last-modified']))).not.toBeNaN();

    const revalidated = await get('/images/alice/one.png', {
      'if-none-match': String(response.headers.etag),
    });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.body).toBe('');
  });

  it('sends each image type with its own media type', async () => {
    for (const [name, type] of [
      ['two.jpg', 'image/jpeg'],
      ['three.jpeg', 'image/jpeg'],
      ['four.webp', 'image/webp'],
    ] as const) {
      fs.writeFileSync(path.join(images, 'alice', name), png);
      const response = await get(`/images/alice/${name}`);
      expect(response.statusCode, name).toBe(200);
      expect(response.headers['content-type'], name).toBe(type);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await get('/images/alice/one.png', {}, 'HEAD');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['content-length']).toBe(String(png.length));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toBe('');
  });

  it('serves a byte range, and the whole image for a range it cannot satisfy', async () => {
    const partial = await get('/images/alice/one.png', { range: 'bytes=0-7' });
    expect(partial.statusCode).toBe(206);
    expect(partial.headers['content-range']).toBe(`bytes 0-7/${png.length}`);
    expect(partial.rawPayload.equals(png.subarray(0, 8))).toBe(true);
    const tail = await get('/images/alice/one.png', { range: 'bytes=-4' });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.equals(png.subarray(png.length - 4))).toBe(true);
    for (const range of [`bytes=${png.length}-`, 'bytes=0-1,4-5', 'pages=1']) {
      const whole = await get('/images/alice/one.png', { range });
      expect(whole.statusCode, range).toBe(200);
      expect(whole.rawPayload.equals(png), range).toBe(true);
    }
  });

  it('never follows a link planted under the images folder, to a file or a directory', async () => {
    const database = fs.readdirSync(testApp.services.config.dataDir).find((name) => name.endsWith('.sqlite'));
    expect(database).toBeDefined();
    fs.symlinkSync(path.join(testApp.services.config.dataDir, String(database)), path.join(images, 'db.png'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(images, 'alice', 'secret.png'));
    fs.symlinkSync('/etc/passwd', path.join(images, 'alice', 'passwd.png'));
    // A link to an image inside the folder is refused as well: no link is ever followed.
    fs.symlinkSync(path.join(images, 'alice', 'one.png'), path.join(images, 'alice', 'alias.png'));
    fs.writeFileSync(path.join(outside, 'elsewhere.png'), png);
    fs.symlinkSync(outside, path.join(images, 'linked'));
    fs.symlinkSync(path.join(images, 'alice'), path.join(images, 'bob'));
    for (const url of [
      '/images/db.png',
      '/images/alice/secret.png',
      '/images/alice/passwd.png',
      '/images/alice/alias.png',
      '/images/linked/elsewhere.png',
      '/images/linked/secret.txt',
      '/images/bob/one.png',
    ]) {
      expectNotFound(await get(url), url);
      expectNotFound(await get(url, {}, 'HEAD'), `HEAD ${url}`);
    }
  });

  it('serves nothing that is not an image file: planted pages, dot files, leftovers, folders', async () => {
    fs.writeFileSync(path.join(images, 'alice', 'page.html'), '<script>alert(1)</script>');
    fs.writeFileSync(path.join(images, 'alice', 'logo.svg'), '<svg onload="alert(1)"/>');
    fs.writeFileSync(path.join(images, 'alice', '.hidden.png'), png);
    fs.writeFileSync(path.join(images, 'alice', 'two.png.0a1b.tmp'), png);
    fs.mkdirSync(path.join(images, 'alice', 'folder.png'));
    for (const url of [
      '/images/alice/page.html',
      '/images/alice/logo.svg',
      '/images/alice/.hidden.png',
      '/images/alice/two.png.0a1b.tmp',
      '/images/alice/folder.png',
      '/images/alice/',
      '/images/alice',
      '/images/',
      '/images/alice/missing.png',
      '/images/alice/one.png/x.png',
      '/images/alice/ONE.PNG',
      '/images/alice//one.png',
      '/images/alice/one.png%00.txt',
      '/images/%00',
      '/images/a%00',
      '/images/..%2f..%2fetc%2fpasswd.png',
    ]) {
      const response = await get(url);
      expectNotFound(response, url);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });
});
