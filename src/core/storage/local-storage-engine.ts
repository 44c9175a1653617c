import { createLocalImageStorage } from './local-image-storage.ts';
import type { StorageEngine } from './storage-engine.ts';

/** STORAGE=local: files under DATA_DIR/images, served by imagine at `/images/`. */
export const localStorageEngine: StorageEngine<'local'> = {
  kind: 'local',
  create: async (_settings, context) =>
    createLocalImageStorage({ dataDir: context.dataDir, publicBaseUrl: context.publicBaseUrl }),
};
