/** The console's images must be allowed from wherever `image_url` points, and from nowhere else. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { contentSecurityPolicy } from './content-security-policy.ts';

const imageSources = (policy: string) =>
  policy
    .split('; ')
    .find((directive) => directive.startsWith('img-src '))
    ?.split(' ')
    .slice(1);

const firebase = {
  NODE_ENV: 'test',
  STORAGE: 'firebase',
  FIREBASE_PROJECT_ID: 'demo-imagine',
  FIREBASE_STORAGE_BUCKET: 'demo-imagine.appspot.com',
  PUBLIC_BASE_URL: 'https://imagine.example.org',
};

describe('the console Content-Security-Policy', () => {
  it("allows Firebase Storage's hosts for STORAGE=firebase", () => {
    expect(imageSources(contentSecurityPolicy(loadConfig(firebase), 'firebase'))).toEqual([
      "'self'",
      'data:',
      'https://imagine.example.org',
      'https://storage.googleapis.com',
      'https://firebasestorage.googleapis.com',
    ]);
  });

  it('allows the Storage emulator, where image_url points while FIREBASE_STORAGE_EMULATOR_HOST is set', () => {
    const config = loadConfig({ ...firebase, FIREBASE_STORAGE_EMULATOR_HOST: '127.0.0.1:9199' });
    expect(imageSources(contentSecurityPolicy(config, 'firebase'))).toContain('http://127.0.0.1:9199');
  });

  it('allows no Google host for local storage', () => {
    const config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'https://imagine.example.org' });
    expect(imageSources(contentSecurityPolicy(config, 'local'))).toEqual([
      "'self'",
      'data:',
      'https://imagine.example.org',
    ]);
  });
});
