/** CORS_ORIGINS: a web app on another origin may call the API from a browser, preflights included. */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/test-app.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(environment: Record<string, string> = {}): Promise<TestApp> {
  current = await createTestApp(environment);
  return current;
}

/** What a browser sends before a cross-origin POST with a JSON body and a bearer token. */
function preflight(testApp: TestApp, origin: string) {
  return testApp.app.inject({
    method: 'OPTIONS',
    url: '/api/v1/generate/image',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,idempotency-key,prefer',
    },
  });
}

const listed = (value: unknown) =>
  String(value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase());

describe('CORS', () => {
  it('answers a preflight from an allowed origin with what the browser needs, before authentication', async () => {
    const testApp = await start({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' });
    const response = await preflight(testApp, 'https://app.example.com');
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(listed(response.headers['access-control-allow-methods'])).toEqual(
      expect.arrayContaining(['get', 'post']),
    );
    expect(listed(response.headers['access-control-allow-headers'])).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'prefer']),
    );
    expect(listed(response.headers['access-control-expose-headers'])).toEqual(
      expect.arrayContaining(['location', 'retry-after', 'idempotent-replayed', 'x-request-id']),
    );
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('lets the allowed origin read the answer and its headers', async () => {
    const testApp = await start({ CORS_ORIGINS: 'https://app.example.com' });
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/api/v1/generate/image',
      payload: { prompt: 'a red fox' },
      headers: {
        origin: 'https://app.example.com',
        authorization: await testApp.bearerFor('alice'),
        prefer: 'respond-async',
      },
    });
    expect(response.statusCode).toBe(202);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(listed(response.headers['access-control-expose-headers'])).toContain('location');
    expect(response.headers.vary).toMatch(/origin/i);
  });

  it("allows the admin API's PATCH and DELETE, so a dashboard elsewhere can manage users, images and keys", async () => {
    const testApp = await start({ CORS_ORIGINS: 'https://dashboard.example.com' });
    for (const [method, url] of [
      ['PATCH', '/api/v1/admin/users/alice'],
      ['DELETE', '/api/v1/admin/keys/imk_abcdef'],
      ['DELETE', '/api/v1/admin/images/1'],
    ] as const) {
      const response = await testApp.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: 'https://dashboard.example.com',
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(response.statusCode, `${method} ${url}`).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('https://dashboard.example.com');
      // A browser sends the request only if the preflight lists its method.
      expect(listed(response.headers['access-control-allow-methods']), `${method} ${url}`).toContain(
        method.toLowerCase(),
      );
    }
  });

  it('gives an origin that is not listed no allow-origin header', async () => {
    const testApp = await start({ CORS_ORIGINS: 'https://app.example.com' });
    const refused = await preflight(testApp, 'https://evil.example.net');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await testApp.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example.net' },
    });
    expect(simple.statusCode).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('with *, allows any origin', async () => {
    const testApp = await start({ CORS_ORIGINS: '*' });
    const response = await preflight(testApp, 'https://anywhere.example.org');
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  it('sends no CORS headers at all when CORS_ORIGINS is unset', async () => {
    const testApp = await start();
    const responses = [
      await preflight(testApp, 'https://app.example.com'),
      await testApp.app.inject({
        method: 'GET',
        url: '/health',
        headers: { origin: 'https://app.example.com' },
      }),
    ];
    for (const response of responses) {
      expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
    // Without CORS there is no OPTIONS route: the preflight is an unknown route, in the error shape.
    expect(responses[0]?.statusCode).toBe(404);
  });

  it('refuses a CORS_ORIGINS entry that is not an origin', async () => {
    await expect(start({ CORS_ORIGINS: 'https://app.example.com/path' })).rejects.toThrow(/CORS_ORIGINS/);
  });
});
