/** An image to keep: `key` is the object path, `images/<uid>/<id>.png`. */
export interface StoredImageInput {
  key: string;
  bytes: Uint8Array;
  contentType: string;
}

/** Where an image was kept and the durable URL it is served from. */
export interface StoredImage {
  key: string;
  url: string;
}

/** Durable storage for generated images (local disk, Firebase Storage or an S3-compatible bucket). */
export interface ImageStorage {
  readonly kind: 'local' | 'firebase' | 's3' | 'memory';
  save(image: StoredImageInput): Promise<StoredImage>;
  /** The bytes of a stored image (a chat button re-posting it); throws when it is not there. */
  read(key: string): Promise<Uint8Array>;
  /** Removes an object; removing one that is not there is not an error. */
  remove(key: string): Promise<void>;
  /** Whether storage is reachable, for /health. */
  checkReady(): Promise<boolean>;
  /** Lets go of connections a client keeps open, when the services close. */
  close?(): void;
}

/** The file extension of each image type a provider may return. */
export const extensionOfMediaType = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
} as const;

/** Every extension a stored image may have. */
export const imageExtensions: readonly string[] = Object.values(extensionOfMediaType);

/** The object path for a generation: user ids are reduced to safe characters so a key is never a path trick. */
export function imageKey(userId: string, generationId: string, extension = 'png'): string {
  const safeUser = userId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128) || '_';
  return `images/${safeUser}/${generationId}.${extension}`;
}
