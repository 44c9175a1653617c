/**
 * Development against the Firebase emulators, end to end: a user signs up with the real Auth emulator, the
 * ID token it hands out is accepted by imagine's REST API (unsigned, as emulator tokens are: firebase-admin
 * accepts them only while FIREBASE_AUTH_EMULATOR_HOST is set), images are stored in the Storage emulator,
 * and the image_url imagine returns downloads the PNG from it.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config/load-config.ts';
import {
  type RunningEmulator,
  startAuthEmulator,
  startStorageEmulator,
} from './test-support/firebase-emulators.ts';
import { createTestApp, type TestApp } from './test-support/test-app.ts';

const projectId = 'demo-imagine';
const bucket = 'demo-imagine.appspot.com';

let auth: RunningEmulator;
let storage: RunningEmulator;
let testApp: TestApp;
let baseUrl: string;

// Loading the Auth emulator compiles its OpenAPI description: several seconds on a busy 2-core machine.
beforeAll(async () => {
  [auth, storage] = await Promise.all([startAuthEmulator(projectId), startStorageEmulator(projectId)]);
  testApp = await createTestApp({
    FIREBASE_PROJECT_ID: projectId,
    FIREBASE_AUTH_EMULATOR_HOST: auth.host,
    FIREBASE_STORAGE_EMULATOR_HOST: storage.host,
    STORAGE: 'firebase',
    FIREBASE_STORAGE_BUCKET: bucket,
  });
  baseUrl = await testApp.app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await testApp?.close();
  await Promise.all([auth?.close(), storage?.close()]);
});

/** Signs a new user up with the Auth emulator's REST API, as the app's Firebase SDK does; its ID token. */
async function signUp(email: string): Promise<{ idToken: string; localId: string }> {
  const response = await fetch(
    `http://${auth.host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any-key-works`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'emulator-password', returnSecureToken: true }),
    },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as { idToken: string; localId: string };
}

function generate(authorization: string, prompt: string): Promise<Response> {
  return fetch(`${baseUrl}/api/v1/generate/image`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, size: '512x512' }),
  });
}

describe('Firebase emulators', () => {
  it('an ID token from the Auth emulator is accepted: 201, charged to that Firebase user', async () => {
    const user = await signUp('ada@example.com');
    const response = await generate(`Bearer ${user.idToken}`, 'a fox in the emulator');
    expect(response.status).toBe(201);
    const usage = await fetch(`${baseUrl}/api/v1/usage`, {
      headers: { authorization: `Bearer ${user.idToken}` },
    });
    expect(await usage.json()).toMatchObject({ used: 1 });
    expect(
      (await testApp.services.records.listForUser(user.localId, { limit: 5, cursor: undefined })).records,
    ).toHaveLength(1);
  });

  it('a garbage token, or one for another project, is 401', async () => {
    expect((await generate('Bearer not.a.token', 'a fox')).status).toBe(401);
    const [header, , signature] = (await signUp('ben@example.com')).idToken.split('.');
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'https://securetoken.google.com/demo-other',
        aud: 'demo-other',
        sub: 'x',
        user_id: 'x',
      }),
    ).toString('base64url');
    const response = await generate(`Bearer ${header}.${payload}.${signature ?? ''}`, 'a fox');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('images go to the Storage emulator, and image_url downloads the PNG from it', async () => {
    const user = await signUp('cleo@example.com');
    const response = await generate(`Bearer ${user.idToken}`, 'a fox in the bucket');
    expect(response.status).toBe(201);
    const { image_url: imageUrl } = (await response.json()) as { image_url: string };
    expect(imageUrl).toMatch(
      new RegExp(
        `^http://${storage.host.replace(/\./g, '\\.')}/v0/b/${bucket.replace(/\./g, '\\.')}/o/[^/?]+\\?alt=media$`,
      ),
    );
    const image = await fetch(imageUrl);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const metadata = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 512, height: 512 });
  });

  it('/health reports storage ok, although the emulator has no bucket-metadata route', async () => {
    const response = await fetch(`${baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', storage: 'ok' });
  });

  it('refuses the Auth emulator in production: its tokens are unsigned', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        FIREBASE_PROJECT_ID: projectId,
        FIREBASE_AUTH_EMULATOR_HOST: auth.host,
      }),
    ).toThrow(/FIREBASE_AUTH_EMULATOR_HOST is set with NODE_ENV=production/);
  });
});
