/**
 * What a client author does with `/openapi.json`: lint it with Redocly, generate types with
 * openapi-typescript, and compile a program against them with no casts beyond reading the JSON.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../test-support/test-app.ts';

const run = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const redoclyBin = path.join(path.dirname(require.resolve('@redocly/cli/package.json')), 'bin/cli.js');
const tscBin = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin/tsc');

let folder: string;
let documentFile: string;
beforeAll(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-openapi-'));
  const testApp = await createTestApp();
  try {
    const served = await testApp.app.inject({ method: 'GET', url: '/openapi.json' });
    documentFile = path.join(folder, 'openapi.json');
    fs.writeFileSync(documentFile, served.body);
  } finally {
    await testApp.close();
  }
});
afterAll(() => {
  fs.rmSync(folder, { recursive: true, force: true });
});

/** A program a client author might write: it only compiles if the generated types say what it relies on. */
const clientProgram = `
import type { components, paths } from './api';

type Generate = paths['/api/v1/generate/image']['post'];
type Batch = paths['/api/v1/generate/image/batch']['post'];
type GetJob = paths['/api/v1/jobs/{id}']['get'];
type GetUsage = paths['/api/v1/usage']['get'];
type ImageRequest = Generate['requestBody']['content']['application/json'];
type ErrorCode = components['schemas']['ErrorResponse']['error'];

const base = 'http://127.0.0.1:8000';
const headers = { authorization: 'Bearer imk_example', 'content-type': 'application/json' };

export async function generate(body: ImageRequest): Promise<string> {
  const response = await fetch(base + '/api/v1/generate/image', { method: 'POST', headers, body: JSON.stringify(body) });
  const image: Generate['responses'][201]['content']['application/json'] = await response.json();
  return image.image_url;
}

export async function generateLater(body: ImageRequest): Promise<string> {
  const response = await fetch(base + '/api/v1/generate/image', {
    method: 'POST',
    headers: { ...headers, prefer: 'respond-async' },
    body: JSON.stringify(body),
  });
  const accepted: Generate['responses'][202]['content']['application/json'] = await response.json();
  return accepted.status_url;
}

export async function batch(body: Batch['requestBody']['content']['application/json']): Promise<string[]> {
  const response = await fetch(base + '/api/v1/generate/image/batch', { method: 'POST', headers, body: JSON.stringify(body) });
  const images: Batch['responses'][201]['content']['application/json'] = await response.json();
  return images.images.map((image) => image.image_url);
}

export async function job(id: GetJob['parameters']['path']['id']): Promise<string | ErrorCode | undefined> {
  const response = await fetch(base + '/api/v1/jobs/' + id, { headers });
  const job: GetJob['responses'][200]['content']['application/json'] = await response.json();
  if (job.error) return job.error.error;
  return job.result && 'image_url' in job.result ? job.result.image_url : undefined;
}

export async function usage(): Promise<number> {
  const response = await fetch(base + '/api/v1/usage', { headers });
  if (response.status === 429) {
    const refused: GetUsage['responses'][429]['content']['application/json'] = await response.json();
    return -(refused.retry_after ?? 0);
  }
  const usage: GetUsage['responses'][200]['content']['application/json'] = await response.json();
  return usage.remaining;
}

// Only the prompt is required; defaults stay optional.
export const minimal: ImageRequest = { prompt: 'a red fox' };
export const limitReached: ErrorCode = 'graphics_limit_reached';
// @ts-expect-error the prompt is required
export const noPrompt: ImageRequest = { size: '1024x1024' };
// @ts-expect-error error codes are a closed list
export const notACode: ErrorCode = 'no_such_code';
// @ts-expect-error the synchronous answer is the image, not a job
export type NoJobId = Generate['responses'][201]['content']['application/json']['job_id'];
`;

describe('a client generated from /openapi.json', () => {
  it('passes Redocly lint with no errors or warnings', { timeout: 60_000 }, async () => {
    // Offline: telemetry and the update check are off, and HOME is a scratch folder so nothing is cached.
    const { stdout } = await run(
      process.execPath,
      [
        redoclyBin,
        'lint',
        '--config',
        path.join(projectRoot, 'redocly.yaml'),
        '--format',
        'json',
        documentFile,
      ],
      {
        cwd: folder,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: folder,
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          CI: 'true',
          NO_COLOR: '1',
        },
      },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`redocly lint failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    const report = JSON.parse(stdout);
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('is typed so a program calling generate, batch, jobs and usage compiles', {
    timeout: 60_000,
  }, async () => {
    const document = JSON.parse(fs.readFileSync(documentFile, 'utf8'));
    fs.writeFileSync(path.join(folder, 'api.d.ts'), astToString(await openapiTS(document)));
    fs.writeFileSync(path.join(folder, 'client.ts'), clientProgram);
    fs.writeFileSync(
      path.join(folder, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ES2022',
          moduleResolution: 'Bundler',
          lib: ['ES2023', 'DOM'],
          types: [],
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
        },
        files: ['client.ts'],
      }),
    );
    const compiled = await run(process.execPath, [tscBin, '-p', folder, '--pretty', 'false'], {
      cwd: folder,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(compiled).toBe('');
  });
});
