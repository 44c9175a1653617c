import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ImageStorage, StoredImage, StoredImageInput } from '../image-storage.ts';
import { s3Failure, s3StorageUnavailable } from './s3-error.ts';

/** Where images go in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO) and where they are served from. */
export interface S3ImageStorageSettings {
  bucket: string;
  region: string;
  /** The service's URL for anything but AWS (`https://<account>.r2.cloudflarestorage.com`, MinIO's). */
  endpoint: string | undefined;
  /** `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`: MinIO and most stand-ins need it. */
  forcePathStyle: boolean;
  /** The CDN or bucket URL images are served from; an image's URL is this, `/`, and its key. */
  publicBaseUrl: string;
  /** How long /health waits for the bucket before calling storage down; 5 s unless a test says otherwise. */
  readyTimeoutMs?: number;
}

// Keys are unique per generation and never rewritten, so caches may keep an image for as long as they like.
const cacheControl = 'public, max-age=31536000, immutable';

/**
 * Images in an S3-compatible bucket, with credentials from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, a web identity or the instance's role): imagine never holds the secret.
 * Objects are written private; they are read through `publicBaseUrl` (a bucket policy, R2's public bucket
 * URL or a CDN in front), so the storage never needs ACLs that many buckets refuse.
 */
export function createS3ImageStorage(settings: S3ImageStorageSettings): ImageStorage & { close(): void } {
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    // Since 3.729 the SDK adds CRC32 checksum headers to every upload by default, which R2 and older MinIO
    // releases refuse; the signed SHA-256 payload hash still covers every byte of an image.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const readyTimeoutMs = settings.readyTimeoutMs ?? 5_000;
  const base = settings.publicBaseUrl.replace(/\/+$/, '');
  const imageUrl = (key: string) => `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;

  return {
    kind: 's3',

    async save(image: StoredImageInput): Promise<StoredImage> {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: settings.bucket,
            Key: image.key,
            Body: image.bytes,
            ContentType: image.contentType,
            CacheControl: cacheControl,
          }),
        );
      } catch (error) {
        throw s3StorageUnavailable('PutObject', error);
      }
      return { key: image.key, url: imageUrl(image.key) };
    },

    async read(key: string): Promise<Uint8Array> {
      let body: { transformToByteArray(): Promise<Uint8Array> } | undefined;
      try {
        ({ Body: body } = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key })));
      } catch (error) {
        // A missing object is that image's problem (the caller says it is gone); anything else is an outage.
        if (isMissing(error)) throw s3Failure('GetObject', error);
        throw s3StorageUnavailable('GetObject', error);
      }
      if (!body) throw new Error(`GetObject ${key} answered without a body`);
      return body.transformToByteArray();
    },

    async remove(key: string): Promise<void> {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: key }));
      } catch (error) {
        // S3 answers 204 for a missing key; some compatible stores say 404 NoSuchKey instead.
        if (isMissing(error)) return;
        throw s3StorageUnavailable('DeleteObject', error);
      }
    },

    async checkReady(): Promise<boolean> {
      // Listing one key proves the bucket exists and the credentials may use it; the SDK would retry a
      // failing service for seconds, and /health needs an answer now.
      try {
        await client.send(
          new ListObjectsV2Command({ Bucket: settings.bucket, MaxKeys: 1, Prefix: 'images/' }),
          {
            abortSignal: AbortSignal.timeout(readyTimeoutMs),
          },
        );
        return true;
      } catch {
        return false;
      }
    },

    close() {
      client.destroy();
    },
  };
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  // A missing bucket is a broken setup, not a missing image.
  return name === 'NoSuchKey' || (status === 404 && name !== 'NoSuchBucket');
}
