/**
 * 5000 generated malformed requests against every route: only 4xx answers in the contract's error shape,
 * the process stays up, and memory returns to where it started. Then malformed paths through `inject()`
 * and malformed request lines and headers as raw bytes on a real socket, which `inject()` cannot send.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from '../test-support/raw-http.ts';
import { createTestApp, type TestApp } from '../test-support/test-app.ts';

const routes: Array<{ method: 'GET' | 'POST'; url: string }> = [
  { method: 'POST', url: '/api/v1/generate/image' },
  { method: 'POST', url: '/api/v1/generate/image/batch' },
  { method: 'GET', url: '/api/v1/usage' },
  { method: 'GET', url: '/api/v1/images' },
  { method: 'GET', url: '/api/v1/styles' },
  { method: 'POST', url: '/api/v1/account/link-codes' },
  { method: 'POST', url: '/discord/interactions' },
  { method: 'POST', url: '/slack/events' },
];

/** Bodies that are almost right, plainly wrong, or not JSON at all. */
const body = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        prompt: fc.oneof(fc.string({ maxLength: 2100 }), fc.integer(), fc.constant(null)),
        size: fc.oneof(fc.constantFrom('1024x1024', '9x9', 'x', '99999x2'), fc.string({ maxLength: 12 })),
        style: fc.oneof(fc.constantFrom('anime', 'nope'), fc.string({ maxLength: 20 })),
        aspect_ratio: fc.oneof(fc.constantFrom('16:9', '1:7'), fc.string({ maxLength: 6 })),
        num_images: fc.oneof(fc.integer({ min: -5, max: 10 }), fc.string({ maxLength: 3 })),
        prompts: fc.array(fc.string({ maxLength: 30 }), { maxLength: 6 }),
        seed: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
        model: fc.oneof(fc.constantFrom('dall-e-3', 'placeholder', '../etc'), fc.string({ maxLength: 10 })),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);

const header = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 80 }).map((text) => text.replace(/[^\x20-\x7e]/g, '')),
);

/** A valid key is one of the choices, so malformed bodies also reach validation and the generator. */
let validAuthorization = '';

const request = fc.record({
  route: fc.constantFrom(...routes),
  body,
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  ),
  authorization: fc.oneof(
    header,
    fc.constant('Bearer imk_'),
    fc.constant('Bearer eyJhbGciOiJub25lIn0.e30.'),
    fc.constant(undefined).map(() => validAuthorization),
  ),
  signature: header,
  timestamp: fc.oneof(header, fc.integer().map(String)),
});

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

let testApp: TestApp;
let port = 0;
beforeAll(async () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const rawPublicKey = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  testApp = await createTestApp({
    NODE_ENV: 'test',
    RATE_LIMIT_PER_MINUTE: '1000000',
    DISCORD_MODE: 'http',
    DISCORD_BOT_TOKEN: 'test-bot-token',
    DISCORD_APPLICATION_ID: '123456789012345678',
    DISCORD_PUBLIC_KEY: rawPublicKey,
    SLACK_MODE: 'http',
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
  });
  validAuthorization = await testApp.bearerFor('fuzzer');
  // Something real for path fuzzing to find: an image, a planted page and a link out of the folder.
  const images = path.join(testApp.services.config.dataDir, 'images');
  fs.mkdirSync(path.join(images, 'fuzzer'), { recursive: true });
  fs.writeFileSync(path.join(images, 'fuzzer', 'real.png'), 'not really a png, but named like one');
  fs.writeFileSync(path.join(images, 'fuzzer', 'page.html'), '<script>alert(1)</script>');
  fs.symlinkSync(testApp.services.config.dataDir, path.join(images, 'fuzzer', 'linked'));
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  port = (testApp.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await testApp.close();
});

describe('bad input', () => {
  it('answers 5000 malformed requests with 4xx in the error shape, stays up, and gives memory back', async () => {
    const statuses = new Map<number, number>();
    const run = async (count: number) => {
      await fc.assert(
        fc.asyncProperty(request, async (generated) => {
          const headers: Record<string, string> = {};
          if (generated.contentType) headers['content-type'] = generated.contentType;
          if (generated.authorization) headers.authorization = generated.authorization;
          if (generated.signature) {
            headers['x-signature-ed25519'] = generated.signature;
            headers['x-slack-signature'] = generated.signature;
          }
          if (generated.timestamp) {
            headers['x-signature-timestamp'] = generated.timestamp;
            headers['x-slack-request-timestamp'] = generated.timestamp;
          }
          const response = await testApp.app.inject({
            method: generated.route.method,
            url: generated.route.url,
            headers,
            ...(generated.route.method === 'POST' ? { payload: generated.body } : {}),
          });
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          expect(response.statusCode, `${generated.route.url} ${response.body}`).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.json()).toEqual(
              expect.objectContaining({ error: expect.any(String), message: expect.any(String) }),
            );
          }
        }),
        { numRuns: count },
      );
    };

    await run(500); // warm-up: compiled code and caches are not a leak
    collectGarbage();
    const baseline = process.memoryUsage().heapUsed;
    await run(4500);
    collectGarbage();
    const after = process.memoryUsage().heapUsed;

    const health = await testApp.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(after - baseline, `heap grew from ${baseline} to ${after}`).toBeLessThan(16 * 1024 * 1024);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
  }, 120_000);
});

/** Any answer at 400 or above is the contract's `{ error, message }`; nothing is a 5xx. */
function expectContractAnswer(label: string, status: number, body: string, method = 'GET'): void {
  expect(status, `${label} → ${status} ${body}`).toBeLessThan(500);
  if (status < 400 || method === 'HEAD') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`${label} → ${status} answered outside the contract's shape: ${JSON.stringify(body)}`);
  }
  expect(parsed, `${label} → ${status}`).toEqual(
    expect.objectContaining({ error: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) }),
  );
  expect(Object.keys(parsed as object), `${label}: not Fastify's own error body`).not.toContain('statusCode');
}

describe('bad paths and headers', () => {
  it('answers the paths and bodies that used to escape the contract with a coded 4xx', async () => {
    const longId = 'j'.repeat(300);
    const cases: Array<{ method?: 'GET' | 'POST'; url: string; expected: [number, string]; body?: string }> =
      [
        { url: '/images/%00', expected: [404, 'not_found'] },
        { url: '/images/a%00', expected: [404, 'not_found'] },
        { url: '/images/x.png%00.txt', expected: [404, 'not_found'] },
        { url: '/images/%ZZ', expected: [400, 'bad_request'] },
        { url: '/api/v1/jobs/%FF', expected: [400, 'bad_request'] },
        { url: '/api/v1/jobs/%C3%28', expected: [400, 'bad_request'] },
        { url: `/api/v1/jobs/${longId}`, expected: [404, 'not_found'] },
        { url: '/nowhere/%E2%82', expected: [400, 'bad_request'] },
        {
          method: 'POST',
          url: '/api/v1/generate/image',
          body: '{"prompt":"a cat"}',
          expected: [400, 'invalid_json'],
        },
      ];
    for (const { method = 'GET', url, expected, body } of cases) {
      const response = await testApp.app.inject({
        method,
        url,
        headers: { authorization: validAuthorization, ...(body ? { 'content-type': 'text/plain' } : {}) },
        ...(body ? { payload: body } : {}),
      });
      expect([response.statusCode, response.json().error], `${method} ${url}`).toEqual(expected);
      expectContractAnswer(url, response.statusCode, response.body);
      expect(response.headers['x-request-id'], url).toBeDefined();
    }
  });

  it('answers 2000 generated malformed paths on every method with 4xx in the error shape', async () => {
    const piece = fc.oneof(
      fc.constantFrom(
        ...['%00', '%ZZ', '%FF', '%C3%28', '%E2%82', '%', '%%', '%2e%2e', '%2f', '%5c', '..', '.', '/', '//'],
        ...['.png', '.png%00.txt', '.html', '.svg', '.tmp', 'fuzzer', 'real.png', 'page.html', 'linked'],
        ...['imagine.sqlite', '~', ';', '*', '?x=%ZZ', '?cursor=%FF', '#frag', '%20', '+'],
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      fc.string({ unit: 'grapheme', maxLength: 8 }).map(encodeURIComponent),
      fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,12}$/),
    );
    const generatedPath = fc
      .record({
        prefix: fc.constantFrom(
          ...['/images/', '/images/fuzzer/', '/api/v1/jobs/', '/api/v1/', '/api/v1/images/', '/'],
          ...['/discord/interactions/', '/slack/events/', '/docs/', '/docs/static/', '/health/'],
        ),
        pieces: fc.array(piece, { maxLength: 6 }),
      })
      .map(({ prefix, pieces }) => prefix + pieces.join(''));
    await fc.assert(
      fc.asyncProperty(
        generatedPath,
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS' as const),
        fc.boolean(),
        async (url, method, authorized) => {
          const response = await testApp.app.inject({
            method,
            url,
            headers: authorized ? { authorization: validAuthorization } : {},
          });
          expectContractAnswer(`${method} ${url}`, response.statusCode, response.body, method);
          if (url.startsWith('/images/') && response.statusCode === 200) {
            expect(response.headers['content-type'], url).toBe('image/png');
          }
        },
      ),
      { numRuns: 2000 },
    );
  }, 120_000);

  it('answers what Node’s parser refuses (huge headers, control characters, broken request lines) in the error shape', async () => {
    const cases: Array<{ label: string; request: string; expected: [number, string] }> = [
      {
        label: 'a 20 KB header',
        request: `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
        expected: [431, 'headers_too_large'],
      },
      {
        label: 'a control character in Authorization',
        request:
          'GET /api/v1/usage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer imk_\x01x\r\nConnection: close\r\n\r\n',
        expected: [400, 'bad_request'],
      },
      {
        label: 'a NUL in the path',
        request: 'GET /images/\x00.png HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        expected: [400, 'bad_request'],
      },
      {
        label: 'a header line without a colon',
        request: 'GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\nConnection: close\r\n\r\n',
        expected: [400, 'bad_request'],
      },
      {
        label: 'two Content-Lengths',
        request: 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        expected: [400, 'bad_request'],
      },
      {
        label: 'HTTP/1.1 without Host',
        request: 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n',
        expected: [400, 'bad_request'],
      },
      { label: 'not HTTP at all', request: 'HELLO\r\n\r\n', expected: [400, 'bad_request'] },
    ];
    for (const { label, request, expected } of cases) {
      const response = await sendRaw(port, request);
      expectContractAnswer(label, response.status, response.body);
      expect([response.status, JSON.parse(response.body).error], label).toEqual(expected);
      expect(response.headers['content-type'], label).toMatch(/^application\/json/);
    }
    // An expectation we do not know is ignored (Node would answer 417 with no body).
    const expecting = await sendRaw(
      port,
      'GET /health HTTP/1.1\r\nHost: x\r\nExpect: x\r\nConnection: close\r\n\r\n',
    );
    expect(expecting.status).toBe(200);
  });

  it('answers 400 generated raw requests with bad bytes in the path and headers with 4xx in the error shape', async () => {
    const bytes = (maxLength: number) =>
      fc
        .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0x20, max: 0x7e })), {
          maxLength,
        })
        .map((values) => Buffer.from(values));
    const headerName = fc.oneof(
      fc.constantFrom(
        ...['Authorization', 'Content-Type', 'Accept', 'If-None-Match', 'If-Modified-Since', 'Range'],
        ...['If-Range', 'X-Request-Id', 'Accept-Encoding', 'X-Signature-Ed25519', 'Origin', 'Cookie'],
        ...['Host', 'Expect'],
      ),
      bytes(12).map((name) => name.toString('latin1')),
    );
    const rawRequest = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'G\x01T', ''),
      path: fc.oneof(
        fc.constantFrom('/health', '/images/fuzzer/real.png', '/api/v1/usage', '/api/v1/jobs/x'),
        bytes(30).map((tail) => Buffer.concat([Buffer.from('/images/'), tail]).toString('latin1')),
        bytes(30).map((tail) => Buffer.concat([Buffer.from('/api/v1/jobs/'), tail]).toString('latin1')),
      ),
      headers: fc.array(fc.tuple(headerName, bytes(60)), { maxLength: 4 }),
      authorized: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(rawRequest, async (generated) => {
        const head = Buffer.from(
          `${generated.method} ${generated.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`,
          'latin1',
        );
        const lines = generated.headers.map(([name, value]) =>
          Buffer.concat([Buffer.from(`${name}: `, 'latin1'), value, Buffer.from('\r\n')]),
        );
        if (generated.authorized) lines.push(Buffer.from(`Authorization: ${validAuthorization}\r\n`));
        const request = Buffer.concat([
          head,
          ...lines,
          Buffer.from('Content-Length: 0\r\nConnection: close\r\n\r\n'),
        ]);
        const response = await sendRaw(port, request);
        expectContractAnswer(
          JSON.stringify(request.toString('latin1')),
          response.status,
          response.body,
          generated.method,
        );
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});
