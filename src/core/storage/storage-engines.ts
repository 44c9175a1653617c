import type { StorageSettings } from '../../config/load-config.ts';
import { firebaseStorageEngine } from './firebase-storage-engine.ts';
import type { ImageStorage } from './image-storage.ts';
import { localStorageEngine } from './local-storage-engine.ts';
import { s3StorageEngine } from './s3/s3-storage-engine.ts';
import type { StorageContext, StorageEngine } from './storage-engine.ts';

type Kind = StorageSettings['kind'];

/**
 * Every storage engine this build knows, one line each: a new engine is its folder and a line here (and its
 * settings in the config).
 */
export const storageEngines: readonly { [K in Kind]: StorageEngine<K> }[Kind][] = [
  localStorageEngine,
  firebaseStorageEngine,
  s3StorageEngine,
];

/** Builds the storage the config selects. */
export async function createImageStorage(
  settings: StorageSettings,
  context: StorageContext,
): Promise<ImageStorage> {
  // `engine.kind === settings.kind`, so these settings are the engine's own; TypeScript cannot relate the two.
  const engine = storageEngines.find((candidate) => candidate.kind === settings.kind) as
    | StorageEngine<typeof settings.kind>
    | undefined;
  if (!engine) throw new Error(`no storage engine is registered for STORAGE=${settings.kind}`);
  return engine.create(settings, context);
}
