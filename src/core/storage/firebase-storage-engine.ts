import type { StorageEngine } from './storage-engine.ts';

/** STORAGE=firebase: a Firebase Storage (Google Cloud Storage) bucket, through the project's Firebase app. */
export const firebaseStorageEngine: StorageEngine<'firebase'> = {
  kind: 'firebase',
  async create(settings, context) {
    // The config refuses STORAGE=firebase without FIREBASE_PROJECT_ID, so the app is there.
    if (!context.firebaseApp)
      throw new Error('STORAGE=firebase needs the Firebase app (FIREBASE_PROJECT_ID)');
    const { createFirebaseImageStorage } = await import('./firebase-image-storage.ts');
    return createFirebaseImageStorage({
      app: context.firebaseApp,
      bucketName: settings.bucket,
      makePublic: settings.makePublic,
      emulatorHost: context.firebaseStorageEmulatorHost,
    });
  },
};
