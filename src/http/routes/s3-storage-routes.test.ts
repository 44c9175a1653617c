/**
 * STORAGE=s3 through the REST API, against a stand-in bucket on loopback that checks every request's SigV4
 * signature: a generated PNG lands in the bucket under its key and is linked under S3_PUBLIC_BASE_URL, the
 * admin delete removes it, a failing bucket is an honest 503 that keeps nothing, what a crash stored
 * unrecorded is swept, and the secret key never reaches a log.
 */
import fs from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { imageKey } from '../../core/storage/image-storage.ts';
import { createServices, type Services } from '../../services.ts';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { type S3StandIn, startS3StandIn } from '../../test-support/s3-stand-in.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { storedImageFiles, temporaryDataDir } from '../../test-support/test-services.ts';
import { buildApp } from '../build-app.ts';

// Made up for these tests: the stand-in recomputes each signature from the secret.
const credentials = { accessKeyId: 'AKIAIMAGINEROUTES001', secretAccessKey: 'routes-secret-9hF2kQ/xY7' };
const publicBase = 'https://images.example.com/imagine';

let bucket: S3StandIn;
let current: TestApp | undefined;

beforeEach(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
  bucket = await startS3StandIn({ bucket: 'imagine-images', credentials });
});

afterEach(async () => {
  await current?.close();
  current = undefined;
  await bucket.close();
  vi.unstubAllEnvs();
});

/** The S3 variables as an operator would set them for MinIO or R2. */
function s3Environment(): Record<string, string> {
  return {
    STORAGE: 's3',
    S3_BUCKET: 'imagine-images',
    S3_REGION: 'auto',
    S3_ENDPOINT: bucket.endpoint,
    S3_PUBLIC_BASE_URL: `${publicBase}/`,
  };
}

async function start(): Promise<TestApp> {
  current = await createTestApp(s3Environment());
  return current;
}

function generate(testApp: TestApp, authorization: string) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: { prompt: 'a lighthouse at dusk', size: '256x256' },
    headers: { authorization },
  });
}

describe('STORAGE=s3 on the REST routes', () => {
  it('stores the PNG in the bucket under the user and generation, and links it under S3_PUBLIC_BASE_URL', async () => {
    const testApp = await start();
    const response = await generate(testApp, await testApp.bearerFor('alice'));
    expect(response.statusCode).toBe(201);
    const body = response.json();
    const key = imageKey('alice', body.id);
    expect(body.image_url).toBe(`${publicBase}/${key}`);

    const put = bucket.requests.find((request) => request.operation === 'PutObject');
    expect(put).toMatchObject({ pathname: `/imagine-images/${key}`, accessKeyId: credentials.accessKeyId });
    expect(put?.headers['content-type']).toBe('image/png');
    const stored = bucket.objects.get(key);
    expect(stored?.contentType).toBe('image/png');
    // A real PNG, the one the response describes.
    expect(stored?.bytes.subarray(1, 4).toString()).toBe('PNG');

    const records = (await testApp.services.records.listForUser('alice', { limit: 10, cursor: undefined }))
      .records;
    expect(records).toEqual([
      expect.objectContaining({ id: body.id, storageKey: key, imageUrl: body.image_url }),
    ]);
    const history = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/images',
      headers: { authorization: await testApp.bearerFor('alice') },
    });
    expect(JSON.stringify(history.json())).toContain(body.image_url);
    // Nothing went to local disk, and /health asks the bucket.
    expect(storedImageFiles(testApp.services)).toEqual([]);
    const health = await testApp.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ storage: 'ok' });
    expect(bucket.requests.at(-1)?.operation).toBe('ListObjectsV2');
  });

  it("lets the operator console show images from S3_PUBLIC_BASE_URL's origin", async () => {
    const testApp = await start();
    const page = await testApp.app.inject({ method: 'GET', url: '/console' });
    expect(page.headers['content-security-policy']).toMatch(
      /img-src 'self' data: http:\/\/localhost:8000 https:\/\/images\.example\.com;/,
    );
  });

  it('removes the object when an admin deletes the image', async () => {
    const testApp = await start();
    const made = (await generate(testApp, await testApp.bearerFor('alice'))).json();
    const key = imageKey('alice', made.id);
    expect(bucket.objects.has(key)).toBe(true);
    const admin = `Bearer ${await testApp.services.apiKeys.create('operator', { admin: true, label: 'console' })}`;
    const deleted = await testApp.app.inject({
      method: 'DELETE',
      url: `/api/v1/admin/images/${made.id}`,
      headers: { authorization: admin },
    });
    expect(deleted.statusCode).toBe(200);
    expect(bucket.objects.has(key)).toBe(false);
    expect(bucket.requests.at(-1)).toMatchObject({ operation: 'DeleteObject', key });
    expect(
      (await testApp.services.records.listForUser('alice', { limit: 10, cursor: undefined })).records,
    ).toEqual([]);
  });

  it.each(['InternalError', 'SlowDown', 'AccessDenied'] as const)(
    'answers a bucket failing with %s with 503 storage_unavailable, keeps no hold and no record, then recovers',
    async (failure) => {
      const testApp = await start();
      const alice = await testApp.bearerFor('alice');
      bucket.fail(failure, ['PutObject']);
      const refused = await generate(testApp, alice);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(refused.headers['retry-after']).toBe('30');
      expect(refused.json()).toEqual({
        error: 'storage_unavailable',
        message: expect.stringMatching(/image store/),
        retry_after: 30,
      });
      expect(await testApp.services.ledger.usage('alice', 5)).toMatchObject({
        used: 0,
        reserved: 0,
        remaining: 5,
      });
      expect(
        (await testApp.services.records.listForUser('alice', { limit: 10, cursor: undefined })).records,
      ).toEqual([]);
      expect(bucket.objects.size).toBe(0);
      // The failed write shows on /health until one lands.
      expect((await testApp.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({
        storage: 'error',
      });

      bucket.recover();
      const again = await generate(testApp, alice);
      expect(again.statusCode).toBe(201);
      expect(bucket.objects.size).toBe(1);
      expect((await testApp.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({
        storage: 'ok',
      });
    },
  );

  it('never writes the secret key to the logs, while the failures it logs are there', async () => {
    const { logger, output } = capturingLogger('trace');
    const dataDir = temporaryDataDir();
    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'trace',
      ...s3Environment(),
    });
    const services = await createServices(config, logger);
    const app = await buildApp(services);
    try {
      const alice = `Bearer ${await services.apiKeys.create('alice', {})}`;
      const request = {
        method: 'POST' as const,
        url: '/api/v1/generate/image',
        headers: { authorization: alice },
      };
      const payload = { prompt: 'a lighthouse at dusk', size: '256x256' };
      expect((await app.inject({ ...request, payload })).statusCode).toBe(201);
      bucket.fail('SlowDown', ['PutObject']);
      expect((await app.inject({ ...request, payload })).statusCode).toBe(503);
      bucket.recover();
      // A wrong secret is refused by the bucket: the refusal is logged, the secret in use is not.
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'a-wrong-secret-Qm4T');
      const second = await createServices(config, logger);
      const secondApp = await buildApp(second);
      expect((await secondApp.inject({ ...request, payload })).statusCode).toBe(503);
      await secondApp.close();
      await second.close();

      const logs = output();
      expect(logs).toMatch(/S3 PutObject failed with SlowDown \(503\)/);
      expect(logs).toMatch(/SignatureDoesNotMatch/);
      expect(logs).not.toContain(credentials.secretAccessKey);
      expect(logs).not.toContain('a-wrong-secret-Qm4T');
    } finally {
      await app.close();
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('STORAGE=s3 and what a crash leaves', () => {
  it('removes an image a crashed process stored without its record, once its hold is released', async () => {
    const dataDir = temporaryDataDir();
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...s3Environment() });
    const quiet = pino({ level: 'silent' });
    const crashedAt = new Date('2026-03-10T12:00:00Z');
    const crashed: Services = await createServices(config, quiet, { now: () => crashedAt });
    await crashed.ledger.reserve({
      userId: 'alice',
      userLimit: 5,
      scope: undefined,
      images: 1,
      estimatedUsd: 0,
      budgetUsd: undefined,
      imageIds: ['unrecorded-image'],
    });
    const key = imageKey('alice', 'unrecorded-image', 'png');
    await crashed.storage.save({ key, bytes: new Uint8Array([1, 2, 3]), contentType: 'image/png' });
    expect(bucket.objects.has(key)).toBe(true);
    // The process ends without settling the hold.
    await crashed.close();

    const restarted = await createServices(config, quiet, { now: () => new Date('2026-03-10T12:30:00Z') });
    try {
      await restarted.background.start();
      expect(await restarted.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
      await vi.waitFor(() => expect(bucket.objects.has(key)).toBe(false));
      expect(
        bucket.requests.filter((request) => request.operation === 'DeleteObject').map((r) => r.key),
      ).toContain(key);
    } finally {
      await restarted.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
