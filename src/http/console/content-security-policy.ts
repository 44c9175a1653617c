import type { Config } from '../../config/load-config.ts';

/**
 * The console's Content-Security-Policy: scripts, styles and everything else from imagine itself, no inline
 * script or style, no framing, and images also from where stored images live (PUBLIC_BASE_URL for local
 * storage, Google's storage hosts for Firebase or the Storage emulator's address, S3_PUBLIC_BASE_URL's origin
 * for S3).
 */
export function contentSecurityPolicy(
  config: Pick<Config, 'server' | 'storage' | 'firebase'>,
  storageKind: string,
): string {
  const imageSources = ["'self'", 'data:'];
  try {
    imageSources.push(new URL(config.server.publicBaseUrl).origin);
  } catch {
    // A base URL that is not a URL would have failed config validation; nothing to add.
  }
  if (storageKind === 'firebase') {
    imageSources.push('https://storage.googleapis.com', 'https://firebasestorage.googleapis.com');
    // With FIREBASE_STORAGE_EMULATOR_HOST, image_url is the emulator's plain-HTTP download URL.
    const emulator = config.firebase?.emulators.storage;
    if (emulator) imageSources.push(`http://${emulator}`);
  }
  if (storageKind === 's3' && config.storage.kind === 's3') {
    imageSources.push(new URL(config.storage.publicBaseUrl).origin);
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${[...new Set(imageSources)].join(' ')}`,
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}
