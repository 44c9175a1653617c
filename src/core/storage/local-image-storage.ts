import { randomUUID } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isProcessGone } from '../jobs/worker-liveness.ts';
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
  removeOrphanedTemporaryFiles(path.join(root, 'images'));

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
      // The pid in the name tells a later start whether the writer is gone (see removeOrphanedTemporaryFiles).
      const temporary = `${file}.${process.pid}-${randomUUID()}.tmp`;
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

/** A temporary file this old is left over whoever wrote it: no image takes a minute to write. */
const orphanAgeMs = 60_000;

/**
 * Removes the `*.tmp` files a crash left between writing an image and renaming it into place. Another
 * process sharing DATA_DIR may be writing one right now, so a file is removed only when the pid in its
 * name is gone (a zombie counts: a server restarted at once finds its killed self unreaped), or is ours
 * (an earlier process had it), or when it is older than any write takes.
 */
export function removeOrphanedTemporaryFiles(folder: string, now = Date.now()): number {
  let removed = 0;
  for (const name of fsSync.readdirSync(folder, { recursive: true }).map(String)) {
    if (!name.endsWith('.tmp')) continue;
    const file = path.join(folder, name);
    try {
      const pid = Number(/\.(\d+)-[0-9a-f-]+\.tmp$/.exec(name)?.[1]);
      const writerGone = !Number.isInteger(pid) || pid === process.pid || isProcessGone(pid);
      if (writerGone || now - fsSync.statSync(file).mtimeMs > orphanAgeMs) {
        fsSync.rmSync(file, { force: true });
        removed++;
      }
    } catch {
      // Gone already (its writer renamed it), or not ours to remove: either way nothing to do.
    }
  }
  return removed;
}

/** The folder local images live in (served at `/images/`). */
export function localImagesFolder(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'images');
}
