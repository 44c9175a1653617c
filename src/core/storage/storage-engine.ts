import type { App } from 'firebase-admin/app';
import type { StorageSettings } from '../../config/load-config.ts';
import type { ImageStorage } from './image-storage.ts';

/** What the composition root hands every storage engine; each takes what it needs. */
export interface StorageContext {
  /** `DATA_DIR`, resolved. */
  dataDir: string;
  /** The base of the URLs imagine serves itself (local images are under `<base>/images/`). */
  publicBaseUrl: string;
  /** The Firebase app, present when FIREBASE_PROJECT_ID is set. */
  firebaseApp: App | undefined;
  /** `host:port` of the Storage emulator, when development runs against it. */
  firebaseStorageEmulatorHost: string | undefined;
}

/** One place images can be kept: the STORAGE value that selects it, and how it is built from its settings. */
export interface StorageEngine<Kind extends StorageSettings['kind'] = StorageSettings['kind']> {
  kind: Kind;
  /** Builds the storage; an engine imports its client here, so the embedded default never loads a cloud SDK. */
  create(settings: Extract<StorageSettings, { kind: Kind }>, context: StorageContext): Promise<ImageStorage>;
}
