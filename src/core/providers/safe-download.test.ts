import { Readable } from 'node:stream';
import nock from 'nock';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test-support/rejection.ts';
import { ProviderCallError } from './provider-error.ts';
import { type DownloadRules, downloadImage, identifyImageBytes } from './safe-download.ts';

const origin = 'https://replicate.delivery';
const rules: DownloadRules = {
  allowedHosts: ['replicate.delivery', 'pbxt.replicate.delivery'],
  maxBytes: 20 * 1024 * 1024,
  provider: 'replicate',
};

let png: Buffer;
let jpeg: Buffer;
let webp: Buffer;

beforeAll(async () => {
  const canvas = () =>
    sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 80, b: 20 } } });
  [png, jpeg, webp] = await Promise.all([
    canvas().png().toBuffer(),
    canvas().jpeg().toBuffer(),
    canvas().webp().toBuffer(),
  ]);
});

/** The ProviderCallError a download rejected with (fails the test if it resolved or threw something else). */
const failure = (promise: Promise<unknown>) => rejectionOf(promise, ProviderCallError);

describe('downloadImage', () => {
  it('returns a PNG with its real size and media type', async () => {
    nock(origin)
      .get('/xezq/out-0.png')
      .query({ sig: 'abc' })
      .reply(200, png, { 'content-type': 'image/png' });

    const image = await downloadImage(`${origin}/xezq/out-0.png?sig=abc`, rules, undefined);

    expect(image).toMatchObject({ mediaType: 'image/png', width: 48, height: 32 });
    expect(Buffer.from(image.bytes).equals(png)).toBe(true);
  });

  it.each([
    ['image/jpeg', () => jpeg],
    ['image/webp', () => webp],
  ])('recognises %s by its bytes, whatever the Content-Type says', async (mediaType, bytes) => {
    nock(origin).get('/out.bin').reply(200, bytes(), { 'content-type': 'application/octet-stream' });

    const image = await downloadImage(`${origin}/out.bin`, rules, undefined);

    expect(image).toMatchObject({ mediaType, width: 48, height: 32 });
  });

  it.each([
    ['plain http', 'http://replicate.delivery/out.png'],
    ['a foreign host', 'https://evil.example/out.png'],
    ['a look-alike host', 'https://replicate.delivery.evil.example/out.png'],
    ['credentials in the URL', 'https://user:secret@replicate.delivery/out.png'],
    ['a non-default port', 'https://replicate.delivery:8443/out.png'],
    ['an unparsable URL', 'not a url'],
  ])('refuses %s without making a request', async (_case, url) => {
    // No interceptor: the network guard fails the test if any request is made.
    const error = await failure(downloadImage(url, rules, undefined));

    expect(error.kind).toBe('malformed');
    expect(error.provider).toBe('replicate');
  });

  it('follows a redirect to another allowed host', async () => {
    nock(origin)
      .get('/short/abc')
      .reply(302, '', { location: 'https://pbxt.replicate.delivery/full/abc.png' });
    nock('https://pbxt.replicate.delivery').get('/full/abc.png').reply(200, png);

    const image = await downloadImage(`${origin}/short/abc`, rules, undefined);

    expect(image.mediaType).toBe('image/png');
  });

  it('sends its headers (a bot token) to the first origin only, never on to another host', async () => {
    const withToken = { ...rules, headers: { authorization: 'Bearer xoxb-secret' } };
    nock(origin, { reqheaders: { authorization: 'Bearer xoxb-secret' } })
      .get('/private/abc')
      .reply(302, '', { location: '/private/abc.png' })
      .get('/private/abc.png')
      .reply(302, '', { location: 'https://pbxt.replicate.delivery/full/abc.png' });
    nock('https://pbxt.replicate.delivery', { badheaders: ['authorization'] })
      .get('/full/abc.png')
      .reply(200, png);

    const image = await downloadImage(`${origin}/private/abc`, withToken, undefined);

    expect(image.mediaType).toBe('image/png');
  });

  it('follows a relative redirect on the same host', async () => {
    nock(origin).get('/a').reply(301, '', { location: '/b.webp' }).get('/b.webp').reply(200, webp);

    const image = await downloadImage(`${origin}/a`, rules, undefined);

    expect(image.mediaType).toBe('image/webp');
  });

  it('refuses a redirect to a foreign host without requesting it', async () => {
    nock(origin).get('/out.png').reply(302, '', { location: 'https://attacker.example/steal.png' });
    // No interceptor for attacker.example: the network guard flags it if it is requested.

    const error = await failure(downloadImage(`${origin}/out.png`, rules, undefined));

    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('attacker.example');
  });

  it('refuses a redirect that downgrades to http', async () => {
    nock(origin).get('/out.png').reply(307, '', { location: 'http://replicate.delivery/out.png' });

    const error = await failure(downloadImage(`${origin}/out.png`, rules, undefined));

    expect(error.kind).toBe('malformed');
  });

  it('gives up after three redirects', async () => {
    nock(origin)
      .get('/r0')
      .reply(302, '', { location: '/r1' })
      .get('/r1')
      .reply(302, '', { location: '/r2' })
      .get('/r2')
      .reply(302, '', { location: '/r3' })
      .get('/r3')
      .reply(302, '', { location: '/r4' });

    const error = await failure(downloadImage(`${origin}/r0`, rules, undefined));

    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('More than 3 redirects');
  });

  it('refuses a body whose Content-Length is over the cap, quickly', async () => {
    const body = Buffer.alloc(30 * 1024 * 1024);
    nock(origin)
      .get('/huge.png')
      .reply(200, body, { 'content-length': String(body.byteLength) });
    const started = performance.now();

    const error = await failure(downloadImage(`${origin}/huge.png`, rules, undefined));

    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('declares 31457280 bytes');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('stops reading a body without Content-Length once it passes the cap', async () => {
    // Paced, because nock's fetch shim drains a reply stream regardless of backpressure: what shows the
    // download stopped early is that it rejects long before the 30 MB body could have finished arriving.
    const chunk = Buffer.alloc(256 * 1024);
    const total = 30 * 1024 * 1024;
    let produced = 0;
    const slowBody = new Readable({
      read() {
        setTimeout(() => {
          produced += chunk.byteLength;
          this.push(produced <= total ? chunk : null);
        }, 5);
      },
    });
    nock(origin)
      .get('/stream.png')
      .reply(200, () => slowBody);
    const started = performance.now();

    const error = await failure(
      downloadImage(`${origin}/stream.png`, { ...rules, maxBytes: 1024 * 1024 }, undefined),
    );
    const producedAtRejection = produced;
    slowBody.destroy();

    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('passed 1048576 bytes');
    expect(producedAtRejection).toBeLessThan(4 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(300);
  });

  it('refuses a text file served as image/png', async () => {
    nock(origin).get('/out.png').reply(200, 'this is not an image\n', { 'content-type': 'image/png' });

    const error = await failure(downloadImage(`${origin}/out.png`, rules, undefined));

    expect(error.kind).toBe('malformed');
    expect(error.message).toContain('not a PNG, JPEG or WebP');
  });

  it('refuses bytes with a PNG signature that do not decode', async () => {
    nock(origin)
      .get('/out.png')
      .reply(200, Buffer.concat([png.subarray(0, 8), Buffer.from('garbage after the signature')]));

    const error = await failure(downloadImage(`${origin}/out.png`, rules, undefined));

    expect(error.kind).toBe('malformed');
  });

  it('treats a 404 (expired link) as malformed, not retryable', async () => {
    nock(origin).get('/expired.png').reply(404, 'Not Found');

    const error = await failure(downloadImage(`${origin}/expired.png`, rules, undefined));

    expect(error).toMatchObject({ kind: 'malformed', status: 404 });
  });

  it('treats a 503 as unavailable and keeps its Retry-After', async () => {
    nock(origin).get('/out.png').reply(503, 'busy', { 'retry-after': '7' });

    const error = await failure(downloadImage(`${origin}/out.png`, rules, undefined));

    expect(error).toMatchObject({ kind: 'unavailable', status: 503, retryAfterSeconds: 7 });
  });

  it('treats a reset connection as a network failure', async () => {
    nock(origin).get('/out.png').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });

    const error = await failure(downloadImage(`${origin}/out.png`, rules, undefined));

    expect(error.kind).toBe('network');
    expect(error.message).toContain('ECONNRESET');
  });

  it('rejects promptly with the abort reason when the caller aborts mid-request', async () => {
    nock(origin).get('/slow.png').delay(5000).reply(200, png);
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const started = performance.now();
    setTimeout(() => controller.abort(reason), 50);

    await expect(downloadImage(`${origin}/slow.png`, rules, controller.signal)).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('makes no request when the signal is already aborted', async () => {
    const signal = AbortSignal.abort();

    await expect(downloadImage(`${origin}/out.png`, rules, signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('downloadImage from an operator-named origin', () => {
  const lan = 'http://192.168.1.20:8080';
  const selfHosted: DownloadRules = {
    allowedHosts: [],
    allowedOrigins: [lan],
    maxBytes: 20 * 1024 * 1024,
    provider: 'openai-compatible',
  };

  it('fetches plain http on a port when the origin is listed exactly', async () => {
    nock(lan).get('/generated-images/b641.png').reply(200, png);

    const image = await downloadImage(`${lan}/generated-images/b641.png`, selfHosted, undefined);

    expect(image).toMatchObject({ mediaType: 'image/png', width: 48, height: 32 });
  });

  it.each([
    ['another port on the same host', 'http://192.168.1.20:9000/out.png'],
    ['https on the same host', 'https://192.168.1.20:8080/out.png'],
    ['another LAN host', 'http://192.168.1.21:8080/out.png'],
    ['credentials in the URL', 'http://user:secret@192.168.1.20:8080/out.png'],
  ])('still refuses %s', async (_case, url) => {
    const error = await failure(downloadImage(url, selfHosted, undefined));

    expect(error.kind).toBe('malformed');
  });

  it('refuses a redirect from the listed origin to one that is not', async () => {
    nock(lan).get('/out.png').reply(302, '', { location: 'http://127.0.0.1:22/secret' });

    const error = await failure(downloadImage(`${lan}/out.png`, selfHosted, undefined));

    expect(error.kind).toBe('malformed');
  });
});

describe('identifyImageBytes', () => {
  it('reads an inline image by the same rule as a download', async () => {
    await expect(identifyImageBytes(webp, 'automatic1111')).resolves.toMatchObject({
      mediaType: 'image/webp',
      width: 48,
      height: 32,
    });
    const error = await failure(identifyImageBytes(Buffer.from('not an image'), 'automatic1111'));
    expect(error).toMatchObject({ kind: 'malformed', provider: 'automatic1111' });
  });
});
