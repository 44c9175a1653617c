import { randomUUID } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImageStorage, StoredImage, StoredImageInput } from './image-storage.ts';

/**
 * Images on local disk under `<dataDir>/images/…`, served by the HTTP server at `/images/…`. Writes go to a
 * temporary file first and are renamed into place, so a crash never leaves a half-written image behind a URL.
 */
export function createLocalImageStorage(dependencies: {
  dataDir: string;
  publicBaseUrl: string;
}): ImageStorage {
  const root = path.resolve(dependencies.dataDir);
  // Created up front so the static file server has a folder to serve before the first image exists.
  fsSync.mkdirSync(path.join(root, 'images'), { recursive: true });

  function fileFor(key: string): string {
    const file = path.resolve(root, key);
    // Keys are built by imageKey(), but a path must never leave the images folder whatever a key says.
    if (!key.startsWith('images/') || !file.startsWith(path.join(root, 'images') + path.sep)) {
      throw new Error(`refusing storage key outside images/: ${key}`);
    }
    return file;
  }

  return {
    kind: 'local',

    async save(image: StoredImageInput): Promise<StoredImage> {
      const file = fileFor(image.key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${randomUUID()}.tmp`;
      try {
        await fs.writeFile(temporary, image.bytes);
        await fs.rename(temporary, file);
      } catch (error) {
        await fs.rm(temporary, { force: true });
        throw error;
      }
      return { key: image.key, url: `${dependencies.publicBaseUrl}/${image.key}` };
    },

    async read(key: string): Promise<Uint8Array> {
      return new Uint8Array(await fs.readFile(fileFor(key)));
    },

    async remove(key: string): Promise<void> {
      await fs.rm(fileFor(key), { force: true });
    },

    async checkReady(): Promise<boolean> {
      try {
        await fs.mkdir(path.join(root, 'images'), { recursive: true });
        await fs.access(path.join(root, 'images'), fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** The folder local images live in (served at `/images/`). */
export function localImagesFolder(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'images');
}
