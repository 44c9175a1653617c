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
    crashed.ledger.reserve({
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
    expect(crashed.ledger.usage('alice', 5).remaining).toBe(1);
    // The process dies here: the hold is never settled.
    crashed.database.close();

    const soonAfter = await createServices(config, pino({ level: 'silent' }), {
      now: () => new Date('2026-03-10T12:05:00Z'),
    });
    // Five minutes on, the generation could still be running in another process: the hold stays.
    expect(soonAfter.ledger.usage('alice', 5).remaining).toBe(1);
    await soonAfter.close();

    const restarted = await createServices(config, pino({ level: 'silent' }), {
      now: () => new Date('2026-03-10T12:30:00Z'),
    });
    expect(restarted.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0, remaining: 5 });
    await vi.waitFor(() => expect(storedImageFiles(restarted)).toEqual([]));
    await expect(restarted.storage.read(unrecorded.key)).rejects.toThrow();
    await restarted.close();
    // In a real crash the checkpoint thread dies with its process; here it would outlive the test and
    // could write into the folder while afterEach removes it (ENOTEMPTY).
    await crashed.close();
  });
});
