/**
 * The production start, end to end: `npm run build`'s compiler settings (tsconfig.build.json) produce
 * JavaScript that `node` runs on its own, with no TypeScript loader: it starts, reports healthy, generates
 * and stores an image, and stops cleanly.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type ServerProcess, startServerProcess } from './test-support/server-process.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const folders: string[] = [];
let server: ServerProcess | undefined;

afterEach(() => {
  server?.process.kill('SIGKILL');
  server = undefined;
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

/**
 * Compiles src/ as `npm run build` does, into a folder of its own so a developer's dist/ is left alone.
 * Emit only (`--noCheck`): the types are `npm run typecheck`'s job, and checking them again here would
 * more than double the time.
 */
async function build(): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-build-'));
  folders.push(outDir);
  const tsc = path.join(projectRoot, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--sourceMap', 'false', '--noCheck'],
    { cwd: projectRoot },
  );
  // What dist/ has by sitting in the project: ES modules, and the project's node_modules.
  fs.writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
  // The build's second step, as `npm run build` runs it: the console's pages beside the code.
  await promisify(execFile)(process.execPath, [path.join(outDir, 'copy-static-assets.js')], {
    cwd: projectRoot,
  });
  return outDir;
}

describe('the production build', () => {
  it('runs with plain node: healthy, generates a stored image, serves the console, stops on SIGTERM', async () => {
    const outDir = await build();
    expect(fs.readdirSync(outDir)).toContain('server.js');
    expect(fs.existsSync(path.join(outDir, 'test-support'))).toBe(false);

    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-build-data-'));
    folders.push(dataDir);
    server = await startServerProcess(
      { PORT: String(port), DATA_DIR: dataDir },
      { nodeArguments: [path.join(outDir, 'server.js')] },
    );

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok', storage: 'ok' });

    const key = /Bearer (imk_[A-Za-z0-9]{40})/.exec(server.output())?.[1];
    expect(key, server.output()).toBeDefined();
    const generated = await fetch(`http://127.0.0.1:${port}/api/v1/generate/image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse at dusk', size: '256x256' }),
    });
    expect(generated.status).toBe(201);
    const body = (await generated.json()) as { image_url: string };
    const image = await fetch(body.image_url.replace('localhost', '127.0.0.1'));
    expect(image.headers.get('content-type')).toBe('image/png');

    // The console, from the pages and assets the build copied beside the code.
    const signIn = await fetch(`http://127.0.0.1:${port}/console`);
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain('action="/console/sign-in"');
    for (const asset of ['console.js', 'console.css', 'icon.svg']) {
      const served = await fetch(`http://127.0.0.1:${port}/console/assets/${asset}`);
      expect(served.status, asset).toBe(200);
      expect((await served.arrayBuffer()).byteLength, asset).toBe(
        fs.statSync(path.join(projectRoot, 'src/http/console/assets', asset)).size,
      );
    }

    const exited = new Promise<number | null>((resolve) => server?.process.once('exit', resolve));
    server.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    server = undefined;
  }, 120_000);
});
