import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';
import { readEnvironment } from './read-environment.ts';

describe('readEnvironment', () => {
  it('reads a .env file, and the real environment wins over it', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-env-'));
    fs.writeFileSync(
      path.join(folder, '.env'),
      '# operator settings\nPORT=9100\nLOG_LEVEL=debug\nBLOCKED_TERMS="gore, blood bath"\n',
    );
    const config = loadConfig(readEnvironment({ LOG_LEVEL: 'warn' }, folder));
    expect(config.server.port).toBe(9100);
    expect(config.logging.level).toBe('warn');
    expect(config.generation.blockedTerms).toEqual(['gore', 'blood bath']);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('starts on the defaults when there is no .env', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-env-'));
    expect(loadConfig(readEnvironment({}, folder)).server.port).toBe(8000);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
