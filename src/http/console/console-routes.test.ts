import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { createServices } from '../../services.ts';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { temporaryDataDir } from '../../test-support/test-services.ts';
import { buildApp } from '../build-app.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(...parameters: Parameters<typeof createTestApp>): Promise<TestApp> {
  current = await createTestApp(...parameters);
  return current;
}

async function signIn(testApp: TestApp, key: string, headers: Record<string, string> = {}) {
  return testApp.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost', ...headers },
    payload: new URLSearchParams({ key }).toString(),
  });
}

function sessionCookie(response: { headers: Record<string, unknown> }): string {
  const header = String(response.headers['set-cookie']);
  return header.split(';')[0] as string;
}

const csrfOf = (html: string) => /name="csrf-token" content="([0-9a-f]{64})"/.exec(html)?.[1] ?? '';

describe('operator console sign-in', () => {
  it('trades an admin key for an HttpOnly, SameSite=Strict session cookie that is not the key', async () => {
    const testApp = await start();
    const key = await testApp.services.apiKeys.create('ops', { admin: true });
    const response = await signIn(testApp, key);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/console');
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^imagine_console=[A-Za-z0-9]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/,
    );
    expect(setCookie).not.toContain(key);
    // Only a hash of the session id is stored.
    const stored = JSON.stringify(sqliteOf(testApp.services).prepare('SELECT * FROM console_sessions').all());
    expect(stored).not.toContain(sessionCookie(response).split('=')[1]);

    const shell = await testApp.app.inject({
      method: 'GET',
      url: '/console',
      headers: { cookie: sessionCookie(response) },
    });
    expect(shell.statusCode).toBe(200);
    expect(shell.body).toContain('<nav aria-label="Console pages">');
    expect(shell.body).not.toContain(key);
    expect(csrfOf(shell.body)).toHaveLength(64);
    const overview = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/admin/overview',
      headers: { cookie: sessionCookie(response) },
    });
    expect(overview.statusCode).toBe(200);
  });

  it('marks the cookie Secure when the console is reached over HTTPS', async () => {
    const testApp = await start({ TRUST_PROXY: 'true' });
    const key = await testApp.services.apiKeys.create('ops', { admin: true });
    const response = await signIn(testApp, key, { 'x-forwarded-proto': 'https' });
    expect(String(response.headers['set-cookie'])).toMatch(/; Secure$/);
  });

  it('refuses a key that is not an admin key, an unknown key, and a sign-in posted from another site', async () => {
    const testApp = await start();
    const notAdmin = await signIn(testApp, await testApp.services.apiKeys.create('alice'));
    expect(notAdmin.statusCode).toBe(403);
    expect(notAdmin.headers['set-cookie']).toBeUndefined();
    expect(notAdmin.body).toContain('That key is not an admin key.');
    const unknown = await signIn(testApp, 'imk_nonsense');
    expect(unknown.statusCode).toBe(401);
    const admin = await testApp.services.apiKeys.create('ops', { admin: true });
    const crossSite = await signIn(testApp, admin, { origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
  });

  it('shows the sign-in page for a forged, expired or revoked session', async () => {
    let now = new Date();
    const testApp = await start({ CONSOLE_SESSION_HOURS: '2' }, { now: () => now });
    const forged = await testApp.app.inject({
      method: 'GET',
      url: '/console',
      headers: { cookie: `imagine_console=${'A'.repeat(43)}` },
    });
    expect(forged.statusCode).toBe(200);
    expect(forged.body).toContain('action="/console/sign-in"');

    const key = await testApp.services.apiKeys.create('ops', { admin: true });
    const cookie = sessionCookie(await signIn(testApp, key));
    const shell = async () =>
      (await testApp.app.inject({ method: 'GET', url: '/console', headers: { cookie } })).body;
    expect(await shell()).toContain('Console pages');
    now = new Date(now.getTime() + 2 * 3_600_000 + 1000);
    expect(await shell()).toContain('action="/console/sign-in"');
    const api = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/admin/overview',
      headers: { cookie },
    });
    expect(api.statusCode).toBe(401);

    const second = sessionCookie(await signIn(testApp, key));
    expect(
      (await testApp.app.inject({ method: 'GET', url: '/console', headers: { cookie: second } })).body,
    ).toContain('Console pages');
    await testApp.services.apiKeys.revoke(key.slice(0, 12));
    expect(
      (await testApp.app.inject({ method: 'GET', url: '/console', headers: { cookie: second } })).body,
    ).toContain('action="/console/sign-in"');
  });

  it('refuses a state-changing request with the cookie but without the CSRF token', async () => {
    const testApp = await start();
    const key = await testApp.services.apiKeys.create('ops', { admin: true });
    const cookie = sessionCookie(await signIn(testApp, key));
    const csrf = csrfOf(
      (await testApp.app.inject({ method: 'GET', url: '/console', headers: { cookie } })).body,
    );
    const create = (headers: Record<string, string>) =>
      testApp.app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys',
        headers: { cookie, ...headers },
        payload: { uid: 'mallory', admin: true },
      });
    const without = await create({});
    expect(without.statusCode).toBe(403);
    expect(without.json().error).toBe('forbidden');
    expect((await create({ 'x-csrf-token': 'f'.repeat(64) })).statusCode).toBe(403);
    expect((await testApp.services.apiKeys.list()).map((listed) => listed.userId)).toEqual(['ops']);
    const withToken = await create({ 'x-csrf-token': csrf });
    expect(withToken.statusCode).toBe(201);

    // Signing out needs the token too, then ends the session.
    const signOut = (csrfField: string) =>
      testApp.app.inject({
        method: 'POST',
        url: '/console/sign-out',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${csrfField}`,
      });
    expect((await signOut('')).statusCode).toBe(403);
    const out = await signOut(csrf);
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toMatch(/^imagine_console=; Path=\/; Max-Age=0/);
    const after = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/admin/overview',
      headers: { cookie },
    });
    expect(after.statusCode).toBe(401);
  });

  it('sends a strict Content-Security-Policy on every console response, assets and refusals included', async () => {
    const testApp = await start({ PUBLIC_BASE_URL: 'https://images.example.org' });
    for (const url of [
      '/console',
      '/console/assets/console.js',
      '/console/assets/console.css',
      '/console/assets/nope.js',
      '/console/nope',
      '/console/assets/nested/nope.js',
    ]) {
      const response = await testApp.app.inject({ method: 'GET', url });
      expect(response.headers['content-security-policy'], url).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https://images.example.org; " +
          "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
    }
    const script = await testApp.app.inject({ method: 'GET', url: '/console/assets/console.js' });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await testApp.app.inject({ method: 'GET', url: '/console/assets/nope.js' })).statusCode).toBe(
      404,
    );
    // A path the console does not have is the API's usual 404, and a post to one too.
    for (const method of ['GET', 'POST'] as const) {
      const missing = await testApp.app.inject({ method, url: '/console/nope?x=1' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({ error: 'not_found', message: `No route for ${method} /console/nope` });
      expect(missing.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    // No inline script anywhere: every script is a file served from /console/assets.
    const page = (await testApp.app.inject({ method: 'GET', url: '/console' })).body;
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(page).not.toMatch(/https?:\/\//);
  });

  it('writes neither the admin key, the session id nor a new key to the logs', async () => {
    const { logger, output } = capturingLogger('trace');
    const dataDir = temporaryDataDir();
    const services = await createServices(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'trace' }),
      logger,
    );
    const app = await buildApp(services);
    try {
      const key = await services.apiKeys.create('ops', { admin: true });
      const signedIn = await app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ key }).toString(),
      });
      const cookie = sessionCookie(signedIn);
      const csrf = csrfOf((await app.inject({ method: 'GET', url: '/console', headers: { cookie } })).body);
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys',
        headers: { cookie, 'x-csrf-token': csrf },
        payload: { uid: 'dave' },
      });
      expect(created.statusCode).toBe(201);
      const logs = output();
      expect(logs).toContain('console sign-in');
      for (const secret of [key, cookie.split('=')[1] as string, csrf, created.json().key as string]) {
        expect(logs).not.toContain(secret);
      }
    } finally {
      await app.close();
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
