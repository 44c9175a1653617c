import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startUnreapedProcess } from '../../test-support/unreaped-process.ts';
import { createLocalImageStorage } from './local-image-storage.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

function plant(dataDir: string, name: string, ageMs = 0): string {
  const file = path.join(dataDir, 'images', 'fox-fan', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'half an image');
  const at = new Date(Date.now() - ageMs);
  fs.utimesSync(file, at, at);
  return file;
}

describe('local image storage at start', () => {
  it('removes the temporary files a crashed writer left, and leaves images and a live writer’s file alone', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-storage-'));
    folders.push(dataDir);
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const sibling = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const livePid = sibling.pid as number;
      const crashed = plant(dataDir, `a.png.${deadPid}-0b7c4d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e.tmp`);
      const oldFormat = plant(dataDir, 'b.png.0b7c4d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e.tmp');
      const stale = plant(dataDir, `c.png.${livePid}-1b7c4d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e.tmp`, 120_000);
      const inProgress = plant(dataDir, `d.png.${livePid}-2b7c4d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e.tmp`);
      const image = plant(dataDir, 'e.png');

      createLocalImageStorage({ dataDir, publicBaseUrl: 'http://localhost:8000' });

      expect([crashed, oldFormat, stale].filter((file) => fs.existsSync(file))).toEqual([]);
      // A sibling process sharing DATA_DIR is writing this one right now.
      expect(fs.existsSync(inProgress)).toBe(true);
      expect(fs.existsSync(image)).toBe(true);
    } finally {
      sibling.kill('SIGKILL');
    }
  });

  it('removes the temporary file of a writer killed a moment ago that is still an unreaped zombie', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-storage-'));
    folders.push(dataDir);
    // A server SIGKILLed mid-write and restarted at once: its parent has not reaped it yet.
    const killed = await startUnreapedProcess();
    try {
      const halfWritten = plant(dataDir, `a.png.${killed.pid}-3b7c4d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e.tmp`);
      process.kill(killed.pid, 'SIGKILL');
      await vi.waitFor(() =>
        expect(fs.readFileSync(`/proc/${killed.pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('Z'),
      );
      // Signalling a zombie succeeds: a pid check alone would call this writer alive.
      expect(() => process.kill(killed.pid, 0)).not.toThrow();

      createLocalImageStorage({ dataDir, publicBaseUrl: 'http://localhost:8000' });

      expect(fs.existsSync(halfWritten)).toBe(false);
    } finally {
      killed.end();
    }
  });

  it('leaves no temporary file behind after a save', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-storage-'));
    folders.push(dataDir);
    const storage = createLocalImageStorage({ dataDir, publicBaseUrl: 'http://localhost:8000' });
    await storage.save({
      key: 'images/fox-fan/f.png',
      bytes: new Uint8Array([1, 2, 3]),
      contentType: 'image/png',
    });
    expect(fs.readdirSync(path.join(dataDir, 'images', 'fox-fan'))).toEqual(['f.png']);
  });
});
