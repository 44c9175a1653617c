import type { App } from 'firebase-admin/app';
import { getStorage } from 'firebase-admin/storage';
import { ImagineError } from '../errors/imagine-error.ts';
import type { ImageStorage, StoredImage, StoredImageInput } from './image-storage.ts';

/** Where images go in Firebase Storage (a Google Cloud Storage bucket) and whether anyone may read them. */
export interface FirebaseImageStorageSettings {
  app: App;
  bucketName: string;
  /** Grant `allUsers` read on each image, so its URL works without a signed link. */
  makePublic: boolean;
  /** How long /health waits for the bucket before calling storage down; 5 s unless a test says otherwise. */
  readyTimeoutMs?: number;
  /** `host:port` of the Storage emulator (FIREBASE_STORAGE_EMULATOR_HOST): image URLs point at it. */
  emulatorHost?: string | undefined;
}

// Keys are unique per generation and never rewritten, so caches may keep an image for as long as they like.
const cacheControl = 'public, max-age=31536000, immutable';

/**
 * Images in a Firebase Storage bucket, served from `https://storage.googleapis.com/<bucket>/<key>` (the form the
 * mobile app expects), or with the Storage emulator from its Firebase download route. Uploads are single multipart requests: images are small, and a resumable upload costs an
 * extra round trip for nothing.
 */
export function createFirebaseImageStorage(settings: FirebaseImageStorageSettings): ImageStorage {
  const bucket = getStorage(settings.app).bucket(settings.bucketName);
  const readyTimeoutMs = settings.readyTimeoutMs ?? 5_000;
  const { emulatorHost } = settings;
  const imageUrl = (key: string) =>
    emulatorHost
      ? emulatorImageUrl(emulatorHost, settings.bucketName, key)
      : publicImageUrl(settings.bucketName, key);

  return {
    kind: 'firebase',

    async save(image: StoredImageInput): Promise<StoredImage> {
      const file = bucket.file(image.key);
      try {
        await file.save(asBuffer(image.bytes), {
          contentType: image.contentType,
          resumable: false,
          metadata: { cacheControl },
        });
      } catch (error) {
        throw storageFailed(error);
      }
      if (settings.makePublic) {
        try {
          await file.makePublic();
        } catch (error) {
          // An image nobody can open is worth nothing: take it away again rather than leave it to pile up.
          await file.delete({ ignoreNotFound: true }).catch(() => undefined);
          throw storageFailed(error);
        }
      }
      return { key: image.key, url: imageUrl(image.key) };
    },

    async read(key: string): Promise<Uint8Array> {
      const [contents] = await bucket.file(key).download();
      return new Uint8Array(contents);
    },

    async remove(key: string): Promise<void> {
      await bucket.file(key).delete({ ignoreNotFound: true });
    },

    async checkReady(): Promise<boolean> {
      // The client retries server errors with backoff for minutes; /health needs an answer now.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), readyTimeoutMs);
        timer.unref();
      });
      // The emulator has no bucket-metadata route (every bucket exists there); listing one object shows it
      // answers. Against Google, the bucket's own metadata says it exists and the credentials reach it.
      const exists = emulatorHost
        ? bucket.getFiles({ maxResults: 1, autoPaginate: false }).then(
            () => true,
            () => false,
          )
        : bucket.exists().then(
            ([found]) => found,
            () => false,
          );
      try {
        return await Promise.race([exists, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The object's public URL: each path segment is encoded, the slashes between them are kept. */
export function publicImageUrl(bucketName: string, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  return `https://storage.googleapis.com/${encodeURIComponent(bucketName)}/${path}`;
}

/** The Storage emulator's download URL (Firebase's `/v0` route): the whole key is one encoded segment. */
export function emulatorImageUrl(emulatorHost: string, bucketName: string, key: string): string {
  return `http://${emulatorHost}/v0/b/${encodeURIComponent(bucketName)}/o/${encodeURIComponent(key)}?alt=media`;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// The registry has no storage-specific code yet; `internal_error` is the nearest (5xx, not retryable) and its
// sentence says nothing about buckets. Google's message stays in the cause, for the logs only.
function storageFailed(cause: unknown): ImagineError {
  return new ImagineError('internal_error', 'The image could not be stored', {}, { cause });
}
