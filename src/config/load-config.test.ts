import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.ts';

function problemsOf(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.server).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      publicBaseUrl: 'http://localhost:8000',
    });
    expect(config.storage).toEqual({ kind: 'local' });
    expect(config.generation.defaultModel).toBe('placeholder');
    expect(config.databasePath.endsWith('data/imagine.sqlite')).toBe(true);
    expect(config.plans.plans.free?.monthlyImages).toBe(5);
    expect(config.plans.plans.enterprise).toMatchObject({ monthlyImages: 2000, models: '*' });
    expect(config.plans.plans.guest?.monthlyImages).toBe(3);
    expect(config.firebase).toBeUndefined();
    // Polling 20 jobs every two seconds fits in the read allowance; 64 MB is the free-space floor.
    expect(config.server).toMatchObject({ rateLimitPerMinute: 60, readRateLimitPerMinute: 600 });
    expect(config.minFreeDiskBytes).toBe(64 * 1024 * 1024);
  });

  it('refuses a DATA_DIR that is a file, or under one, and takes one that does not exist yet', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-config-'));
    try {
      const file = path.join(folder, 'notes.txt');
      fs.writeFileSync(file, 'not a folder');
      expect(problemsOf({ DATA_DIR: file })).toEqual([
        `DATA_DIR is "${file}": that is a file, not a folder; set DATA_DIR to a folder (imagine creates it if it does not exist)`,
      ]);
      expect(problemsOf({ DATA_DIR: path.join(file, 'data') })).toEqual([
        expect.stringMatching(/^DATA_DIR is ".*notes\.txt\/data": part of that path is a file, not a folder/),
      ]);
      expect(loadConfig({ DATA_DIR: path.join(folder, 'new', 'data') }).dataDir).toBe(
        path.join(folder, 'new', 'data'),
      );
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a DATA_DIR whose images folder is a file when storage is local, and takes it for S3', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-config-'));
    try {
      const images = path.join(folder, 'images');
      fs.writeFileSync(images, 'not a folder');
      const refusal = `DATA_DIR holds a file "${images}" where STORAGE=local keeps its images folder; move that file out of DATA_DIR (imagine then creates the folder) or set DATA_DIR to another folder`;
      expect(problemsOf({ DATA_DIR: folder })).toEqual([refusal]);
      // A link to nothing stands in the folder's way just the same.
      fs.rmSync(images);
      fs.symlinkSync(path.join(folder, 'gone'), images);
      expect(problemsOf({ DATA_DIR: folder })).toEqual([refusal]);
      // S3 keeps nothing there.
      const s3 = {
        S3_BUCKET: 'images',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_PUBLIC_BASE_URL: 'http://127.0.0.1:9000/images',
      };
      expect(loadConfig({ DATA_DIR: folder, STORAGE: 's3', ...s3 }).dataDir).toBe(folder);
      fs.rmSync(images);
      fs.mkdirSync(images);
      expect(loadConfig({ DATA_DIR: folder }).dataDir).toBe(folder);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('names each bad variable and what it expects', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', STORAGE: 'gcs' });
    expect(problems).toHaveLength(3);
    expect(problems.find((line) => line.startsWith('PORT is "eighty"'))).toMatch(/number/i);
    expect(problems.find((line) => line.startsWith('LOG_LEVEL'))).toMatch(/info/);
    expect(problems.find((line) => line.startsWith('STORAGE'))).toMatch(/local.*firebase.*s3/);
  });

  it('takes the Firebase emulators as host:port, with a project id and no credentials', () => {
    const config = loadConfig({
      FIREBASE_PROJECT_ID: 'demo-imagine',
      FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
      FIREBASE_STORAGE_EMULATOR_HOST: 'localhost:9199',
    });
    expect(config.firebase).toMatchObject({
      projectId: 'demo-imagine',
      credentialsPath: undefined,
      emulators: { auth: '127.0.0.1:9099', storage: 'localhost:9199' },
    });
    expect(problemsOf({ FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' })).toEqual([
      expect.stringMatching(/^FIREBASE_PROJECT_ID is missing: the Firebase emulators need the project id/),
    ]);
    expect(
      problemsOf({
        FIREBASE_PROJECT_ID: 'demo-imagine',
        FIREBASE_STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9199',
      }),
    ).toEqual([
      expect.stringMatching(/^FIREBASE_STORAGE_EMULATOR_HOST is "http:\/\/127\.0\.0\.1:9199": host:port/),
    ]);
  });

  it('requires what Firebase storage needs', () => {
    const problems = problemsOf({ STORAGE: 'firebase' });
    expect(problems.join('\n')).toMatch(/FIREBASE_STORAGE_BUCKET is missing/);
    expect(problems.join('\n')).toMatch(/FIREBASE_PROJECT_ID is missing/);
  });

  it('requires the bucket and the URL images are served from for S3 storage, naming both', () => {
    expect(problemsOf({ STORAGE: 's3' })).toEqual([
      'S3_BUCKET is missing: STORAGE=s3 needs the bucket name',
      'S3_PUBLIC_BASE_URL is missing: STORAGE=s3 needs the CDN or bucket URL images are served from',
    ]);
    expect(problemsOf({ STORAGE: 's3', S3_BUCKET: 'images', S3_PUBLIC_BASE_URL: 'cdn.example.com' })).toEqual(
      [expect.stringMatching(/^S3_PUBLIC_BASE_URL is "cdn\.example\.com": /)],
    );
  });

  it('takes AWS S3 with virtual-hosted URLs, and an S3_ENDPOINT (R2, MinIO) with path-style ones unless told otherwise', () => {
    const aws = loadConfig({
      STORAGE: 's3',
      S3_BUCKET: 'imagine-images',
      S3_REGION: 'eu-west-1',
      S3_PUBLIC_BASE_URL: 'https://cdn.example.com/',
    });
    expect(aws.storage).toEqual({
      kind: 's3',
      bucket: 'imagine-images',
      region: 'eu-west-1',
      endpoint: undefined,
      forcePathStyle: false,
      publicBaseUrl: 'https://cdn.example.com',
    });
    const minio = {
      STORAGE: 's3',
      S3_BUCKET: 'imagine',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_PUBLIC_BASE_URL: 'http://127.0.0.1:9000/imagine',
    };
    expect(loadConfig(minio).storage).toMatchObject({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
    expect(loadConfig({ ...minio, S3_FORCE_PATH_STYLE: 'false' }).storage).toMatchObject({
      forcePathStyle: false,
    });
  });

  it('reads plan limits and plan models on top of the defaults', () => {
    const config = loadConfig({
      PLAN_LIMITS: 'free=10,team=500',
      PLAN_MODELS: 'team=placeholder,flux-dev;pro=*',
      GUEST_MONTHLY_IMAGES: '0',
    });
    expect(config.plans.plans.free?.monthlyImages).toBe(10);
    expect(config.plans.plans.team).toEqual({
      name: 'team',
      monthlyImages: 500,
      models: ['placeholder', 'flux-dev'],
    });
    expect(config.plans.plans.pro?.models).toBe('*');
    expect(config.plans.plans.guest?.monthlyImages).toBe(0);
  });

  it('reads daily allowances beside monthly ones; a bare number stays monthly', () => {
    const config = loadConfig({
      PLAN_LIMITS: 'pro=200/month+20/day,team=10/day+500/month,free=7,guest=2/day',
    });
    expect(config.plans.plans.pro).toMatchObject({ monthlyImages: 200, dailyImages: 20 });
    expect(config.plans.plans.team).toMatchObject({ monthlyImages: 500, dailyImages: 10 });
    expect(config.plans.plans.free).toMatchObject({ monthlyImages: 7, dailyImages: undefined });
    // Only a daily allowance: the plan's default monthly one stays.
    expect(config.plans.plans.guest).toMatchObject({ monthlyImages: 3, dailyImages: 2 });
    expect(problemsOf({ PLAN_LIMITS: 'pro=20/week' })[0]).toMatch(/PLAN_LIMITS .*plan=N\/month\+M\/day/);
    expect(problemsOf({ PLAN_LIMITS: 'pro=1/day+2/day' })[0]).toMatch(/PLAN_LIMITS/);
    expect(problemsOf({ PLAN_LIMITS: 'team=5/day' })[0]).toMatch(/only a daily allowance/);
  });

  it('refuses unknown models and malformed plan lists', () => {
    expect(problemsOf({ IMAGE_MODEL: 'midjourney' })[0]).toMatch(/IMAGE_MODEL is "midjourney"/);
    expect(problemsOf({ PLAN_LIMITS: 'free:5' })[0]).toMatch(/PLAN_LIMITS .*plan=number/);
    expect(problemsOf({ PLAN_MODELS: 'free=dalle-9' })[0]).toMatch(/names model "dalle-9" .*unknown model/);
    expect(problemsOf({ DEFAULT_PLAN: 'gold' })[0]).toMatch(/DEFAULT_PLAN "gold"/);
    expect(problemsOf({ IMAGE_TO_IMAGE_MODEL: 'sdxl-9' })[0]).toMatch(/IMAGE_TO_IMAGE_MODEL is "sdxl-9"/);
    expect(problemsOf({ UPSCALE_MODEL: 'esrgan-9' })[0]).toMatch(/UPSCALE_MODEL is "esrgan-9"/);
    expect(problemsOf({ UPSCALE_MODEL: 'dall-e-3' })[0]).toMatch(
      /UPSCALE_MODEL is "dall-e-3": .*cannot do upscale/,
    );
  });

  it('reads the input image limits and the parameters switch', () => {
    expect(loadConfig({}).generation).toMatchObject({
      imageToImageModel: undefined,
      upscaleModel: undefined,
      inputImages: {
        maxBytes: 10 * 1024 * 1024,
        allowedHosts: ['cdn.discordapp.com', 'media.discordapp.net'],
      },
      embedParameters: true,
    });
    const set = loadConfig({
      MAX_INPUT_IMAGE_BYTES: '2048',
      INPUT_IMAGE_HOSTS: 'Images.Example.com',
      PNG_METADATA: 'off',
      IMAGE_TO_IMAGE_MODEL: 'Placeholder',
    }).generation;
    expect(set).toMatchObject({
      imageToImageModel: 'placeholder',
      inputImages: { maxBytes: 2048, allowedHosts: ['images.example.com'] },
      embedParameters: false,
    });
  });

  it('picks Flux Schnell as the default model once a Replicate token is set, and moderation once OpenAI is', () => {
    expect(loadConfig({}).generation.defaultModel).toBe('placeholder');
    const withProviders = loadConfig({ REPLICATE_API_TOKEN: 'r8_test', OPENAI_API_KEY: 'sk-test' });
    expect(withProviders.generation.defaultModel).toBe('flux-schnell');
    expect(withProviders.providers.moderation).toEqual({ kind: 'openai', onError: 'allow' });
    expect(loadConfig({ OPENAI_API_KEY: 'sk-test', MODERATION: 'off' }).providers.moderation.kind).toBe(
      'off',
    );
    expect(loadConfig({ IMAGE_FALLBACK_MODELS: 'flux-dev, DALL-E-3' }).generation.fallbackModels).toEqual([
      'flux-dev',
      'dall-e-3',
    ]);
  });

  it('refuses provider settings that cannot work, without echoing a secret', () => {
    expect(problemsOf({ IMAGE_FALLBACK_MODELS: 'flux-9' })[0]).toMatch(
      /IMAGE_FALLBACK_MODELS names "flux-9"/,
    );
    expect(problemsOf({ PROMPT_ENHANCER: 'openai' })[0]).toMatch(
      /PROMPT_ENHANCER .*OPENAI_API_KEY is missing/,
    );
    expect(problemsOf({ MODERATION: 'openai' })[0]).toMatch(/MODERATION .*OPENAI_API_KEY is missing/);
    const problems = problemsOf({ OPENAI_API_KEY: 'sk-secret-value', OPENAI_BASE_URL: 'not a url' }).join(
      '\n',
    );
    expect(problems).toMatch(/OPENAI_BASE_URL/);
    expect(problems).not.toContain('sk-secret-value');
  });

  it('counts rate limits in Redis only when REDIS_URL is set, and never shows its password', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2' }).redis).toEqual({
      url: 'rediss://:pw@redis.internal:6380/2',
      keyPrefix: 'imagine:',
    });
    expect(
      loadConfig({ REDIS_URL: 'redis://127.0.0.1', REDIS_KEY_PREFIX: 'staging:' }).redis?.keyPrefix,
    ).toBe('staging:');
    const [problem] = problemsOf({ REDIS_URL: 'http://:hunter2@redis.internal:6379' });
    expect(problem).toMatch(/^REDIS_URL is "http:\/\/\*\*\*@redis.internal:6379"/);
    expect(problem).not.toContain('hunter2');
  });

  it('keeps every store in PostgreSQL only when DATABASE_URL is set, and never shows its password', () => {
    expect(loadConfig({}).postgres).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: 'postgres://imagine:pw@db.internal:5432/imagine' }).postgres).toEqual({
      url: 'postgres://imagine:pw@db.internal:5432/imagine',
      poolSize: 10,
    });
    expect(
      loadConfig({ DATABASE_URL: 'postgresql://db.internal/imagine', DATABASE_POOL_SIZE: '25' }).postgres
        ?.poolSize,
    ).toBe(25);
    const [problem] = problemsOf({ DATABASE_URL: 'mysql://imagine:hunter2@db.internal/imagine' });
    expect(problem).toMatch(/^DATABASE_URL is "mysql:\/\/\*\*\*@db.internal\/imagine"/);
    expect(problem).not.toContain('hunter2');
    expect(problemsOf({ DATABASE_POOL_SIZE: '0' })[0]).toMatch(/DATABASE_POOL_SIZE/);
  });
});
