import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rejectionOf } from '../../../test-support/rejection.ts';
import { type S3StandIn, startS3StandIn } from '../../../test-support/s3-stand-in.ts';
import { tinyPng } from '../../../test-support/test-services.ts';
import { ImagineError } from '../../errors/imagine-error.ts';
import { isStorageFailure } from '../../errors/storage-unavailable.ts';
import { createS3ImageStorage } from './s3-image-storage.ts';

// Test-only credentials, made up here: the stand-in checks each request's SigV4 signature against them.
const credentials = { accessKeyId: 'AKIAIMAGINETEST00001', secretAccessKey: 'stand-in-secret/Zk3pQ9wXv2' };
const key = 'images/alice/gen-1.png';

let bucket: S3StandIn;
let storage: ReturnType<typeof createS3ImageStorage>;

beforeEach(async () => {
  // The SDK's standard chain reads these from the environment, as it would in production.
  vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
  bucket = await startS3StandIn({ bucket: 'imagine-test', credentials });
  storage = createS3ImageStorage({
    bucket: 'imagine-test',
    region: 'us-east-1',
    endpoint: bucket.endpoint,
    forcePathStyle: true,
    publicBaseUrl: 'https://cdn.example.com/media/',
    readyTimeoutMs: 2_000,
  });
});

afterEach(async () => {
  storage.close();
  await bucket.close();
  vi.unstubAllEnvs();
});

describe('S3 image storage', () => {
  it('puts the image at its key with its content type and a long cache life, and links it under the public base', async () => {
    const saved = await storage.save({ key, bytes: tinyPng, contentType: 'image/png' });
    expect(saved).toEqual({ key, url: 'https://cdn.example.com/media/images/alice/gen-1.png' });
    const put = bucket.requests.find((request) => request.operation === 'PutObject');
    expect(put).toMatchObject({ method: 'PUT', pathname: `/imagine-test/${key}` });
    expect(put?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIMAGINETEST00001\//);
    expect(bucket.objects.get(key)).toMatchObject({
      contentType: 'image/png',
      cacheControl: 'public, max-age=31536000, immutable',
    });
    expect(Buffer.compare(bucket.objects.get(key)?.bytes ?? Buffer.alloc(0), Buffer.from(tinyPng))).toBe(0);
  });

  it('reads back the bytes it stored, and says an image is gone without calling it an outage', async () => {
    await storage.save({ key, bytes: tinyPng, contentType: 'image/png' });
    expect(Buffer.from(await storage.read(key)).equals(Buffer.from(tinyPng))).toBe(true);
    const missing = await rejectionOf(storage.read('images/alice/never.png'));
    expect(isStorageFailure(missing)).toBe(false);
    expect(String(missing)).toMatch(/NoSuchKey/);
  });

  it('removes an object, and removing one that is not there is not an error', async () => {
    await storage.save({ key, bytes: tinyPng, contentType: 'image/png' });
    await storage.remove(key);
    expect(bucket.objects.has(key)).toBe(false);
    await storage.remove(key);
    expect(bucket.requests.filter((request) => request.operation === 'DeleteObject')).toHaveLength(2);
  });

  it.each([
    ['InternalError', 500],
    ['SlowDown', 503],
    ['AccessDenied', 403],
  ] as const)(
    'turns %s on upload into the 503 storage_unavailable, retrying only what S3 says may pass',
    async (code, status) => {
      bucket.fail(code, ['PutObject']);
      const failure = await rejectionOf(storage.save({ key, bytes: tinyPng, contentType: 'image/png' }));
      expect(ImagineError.isInstance(failure) && failure.code).toBe('storage_unavailable');
      expect((failure as ImagineError).context).toEqual({ retry_after: 30 });
      expect(String((failure as Error).cause)).toContain(`S3 PutObject failed with ${code} (${status})`);
      const puts = bucket.requests.filter((request) => request.operation === 'PutObject').length;
      // The SDK's standard retries: three attempts for a server error or throttling, one for a refusal.
      expect(puts).toBe(code === 'AccessDenied' ? 1 : 3);
      expect(bucket.objects.size).toBe(0);
    },
  );

  it('is ready while the bucket answers a listing, and not once it refuses', async () => {
    expect(await storage.checkReady()).toBe(true);
    expect(bucket.requests.at(-1)).toMatchObject({ operation: 'ListObjectsV2' });
    expect(bucket.requests.at(-1)?.url).toMatch(/list-type=2/);
    bucket.fail('AccessDenied');
    expect(await storage.checkReady()).toBe(false);
  });

  it('is not ready when the bucket does not exist', async () => {
    const elsewhere = createS3ImageStorage({
      bucket: 'no-such-bucket',
      region: 'us-east-1',
      endpoint: bucket.endpoint,
      forcePathStyle: true,
      publicBaseUrl: 'https://cdn.example.com',
    });
    try {
      expect(await elsewhere.checkReady()).toBe(false);
      const failure = await rejectionOf(elsewhere.save({ key, bytes: tinyPng, contentType: 'image/png' }));
      expect(String((failure as Error).cause)).toMatch(/NoSuchBucket \(404\)/);
    } finally {
      elsewhere.close();
    }
  });

  it('keeps nothing of the SDK error but its facts: no signed string, no access key id', async () => {
    const wrongSecret = createS3ImageStorage({
      bucket: 'imagine-test',
      region: 'us-east-1',
      endpoint: bucket.endpoint,
      forcePathStyle: true,
      publicBaseUrl: 'https://cdn.example.com',
    });
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-the-secret');
    try {
      const failure = await rejectionOf(wrongSecret.save({ key, bytes: tinyPng, contentType: 'image/png' }));
      const cause = (failure as Error).cause as Record<string, unknown>;
      expect(cause).toMatchObject({ operation: 'PutObject', code: 'SignatureDoesNotMatch', httpStatus: 403 });
      expect(JSON.stringify({ ...cause, message: (cause as unknown as Error).message })).not.toMatch(
        /AKIAIMAGINETEST|not-the-secret|\$response/,
      );
    } finally {
      wrongSecret.close();
    }
  });
});
