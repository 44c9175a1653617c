import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { environmentSchema } from '../../config/environment-schema.ts';
import { temporaryDataDir } from '../../test-support/test-services.ts';
import { createImageStorage, storageEngines } from './storage-engines.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

describe('storage engines', () => {
  it('has exactly one engine for every STORAGE value the config accepts', () => {
    const accepted = environmentSchema.shape.STORAGE.unwrap().options;
    expect(storageEngines.map((engine) => engine.kind).sort()).toEqual([...accepted].sort());
  });

  it('builds the storage the settings name', async () => {
    const dataDir = temporaryDataDir();
    folders.push(dataDir);
    const context = {
      dataDir,
      publicBaseUrl: 'http://localhost:8000',
      firebaseApp: undefined,
      firebaseStorageEmulatorHost: undefined,
    };
    expect((await createImageStorage({ kind: 'local' }, context)).kind).toBe('local');
    const s3 = await createImageStorage(
      {
        kind: 's3',
        bucket: 'imagine',
        region: 'auto',
        endpoint: 'http://127.0.0.1:9',
        forcePathStyle: true,
        publicBaseUrl: 'https://images.example.com',
      },
      context,
    );
    expect(s3.kind).toBe('s3');
    s3.close?.();
    await expect(
      createImageStorage({ kind: 'firebase', bucket: 'b', makePublic: true }, context),
    ).rejects.toThrow(/FIREBASE_PROJECT_ID/);
  });
});
