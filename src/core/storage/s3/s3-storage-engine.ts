import type { StorageEngine } from '../storage-engine.ts';

/** STORAGE=s3: any S3-compatible bucket (AWS S3, Cloudflare R2, MinIO). */
export const s3StorageEngine: StorageEngine<'s3'> = {
  kind: 's3',
  async create(settings) {
    const { createS3ImageStorage } = await import('./s3-image-storage.ts');
    return createS3ImageStorage({
      bucket: settings.bucket,
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      publicBaseUrl: settings.publicBaseUrl,
    });
  },
};
