/** MODELS_FILE through the real server process: a good file adds models, a bad one stops start-up (exit 78). */
import { type ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startServerProcess } from './test-support/server-process.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
let server: ChildProcess | undefined;
let folder: string | undefined;
afterEach(() => {
  server?.kill('SIGKILL');
  server = undefined;
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
  folder = undefined;
});

describe('MODELS_FILE in the real server', () => {
  it('serves and lists a model the file adds, and reports its readiness on /health', async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-models-e2e-'));
    const file = path.join(folder, 'models.yaml');
    fs.writeFileSync(
      file,
      'models:\n  - id: draft\n    provider: placeholder\n    description: Quick drafts\n    price_usd: 0\n',
    );
    const port = await freePort();
    const started = await startServerProcess({
      PORT: String(port),
      DATA_DIR: path.join(folder, 'data'),
      MODELS_FILE: file,
      IMAGE_MODEL: 'draft',
    });
    server = started.process;
    const key = /Bearer (imk_[A-Za-z0-9]{40})/.exec(started.output())?.[1];
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${port}`;

    const models = (await (await fetch(`${base}/api/v1/models`, { headers })).json()) as {
      models: { id: string }[];
    };
    expect(models.models.map((model) => model.id)).toEqual(['placeholder', 'draft']);
    expect(models.models[1]).toMatchObject({ description: 'Quick drafts', default: true, price_usd: 0 });

    const generated = await fetch(`${base}/api/v1/generate/image`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt: 'a lighthouse', size: '512x512' }),
    });
    expect(generated.status).toBe(201);
    expect(await generated.json()).toMatchObject({ model: 'draft', size: '512x512', cost: 0 });

    const health = (await (await fetch(`${base}/health`)).json()) as { provider: unknown };
    expect(health.provider).toMatchObject({
      default_model: 'draft',
      ready: true,
      readiness: [
        { id: 'placeholder', ready: true },
        { id: 'draft', ready: true },
      ],
    });
  }, 60_000);

  it('stops with status 78 naming the file, the entry and the field', () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-models-e2e-'));
    const file = path.join(folder, 'models.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ models: [{ id: 'draft', provider: 'placeholder', price_usd: -1 }] }),
    );
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        ENV_FILE: 'none',
        PORT: '0',
        DATA_DIR: path.join(folder, 'data'),
        MODELS_FILE: file,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`MODELS_FILE ${file}: models[0] (id "draft"): price_usd:`);
  }, 60_000);
});
