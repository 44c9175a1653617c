/**
 * 5000 generated malformed requests against every route: only 4xx answers in the contract's error shape,
 * the process stays up, and memory returns to where it started.
 */
import { generateKeyPairSync } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  validAuthorization = testApp.bearerFor('fuzzer');
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
