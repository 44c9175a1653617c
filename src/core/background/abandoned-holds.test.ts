import fs from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { createServices } from '../../services.ts';
import { storedImageFiles, temporaryDataDir } from '../../test-support/test-services.ts';
import { imageKey } from '../storage/image-storage.ts';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

describe('abandoned quota holds', () => {
  it('gives a user back the quota a crashed process was holding at the next start, and removes what it stored unrecorded', async () => {
    const dataDir = temporaryDataDir();
    folders.push(dataDir);
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
    const startedAt = new Date('2026-03-10T12:00:00Z');
    const crashed = await createServices(config, pino({ level: 'silent' }), { now: () => startedAt });
    await crashed.ledger.reserve({
      userId: 'alice',
      userLimit: 5,
      scope: undefined,
      images: 4,
      estimatedUsd: 0,
      budgetUsd: undefined,
      imageIds: ['unrecorded-image'],
    });
    const unrecorded = await crashed.storage.save({
      key: imageKey('alice', 'unrecorded-image', 'webp'),
      bytes: new Uint8Array([1, 2, 3]),
      contentType: 'image/webp',
    });
    expect(storedImageFiles(crashed)).toHaveLength(1);
    expect((await crashed.ledger.usage('alice', 5)).remaining).toBe(1);
    // The process ends here without settling the hold (closing also stops its checkpoint worker, which
    // would otherwise still be writing to the folder while the test removes it).
    await crashed.close();

    const soonAfter = await createServices(config, pino({ level: 'silent' }), {
      now: () => new Date('2026-03-10T12:05:00Z'),
    });
    await soonAfter.background.start();
    // Five minutes on, the generation could still be running in another process: the hold stays.
    expect((await soonAfter.ledger.usage('alice', 5)).remaining).toBe(1);
    await soonAfter.close();

    const restarted = await createServices(config, pino({ level: 'silent' }), {
      now: () => new Date('2026-03-10T12:30:00Z'),
    });
    await restarted.background.start();
    expect(await restarted.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0, remaining: 5 });
    await vi.waitFor(() => expect(storedImageFiles(restarted)).toEqual([]));
    await expect(restarted.storage.read(unrecorded.key)).rejects.toThrow();
    await restarted.close();
  });
});
