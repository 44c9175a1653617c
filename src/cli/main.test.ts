/** The operator CLI as operators script it: `npm run cli -- …` against a DATA_DIR. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const projectRoot = path.resolve(import.meta.dirname, '../..');
let dataDir: string | undefined;
afterEach(() => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

function environment(folder: string) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    DATA_DIR: folder,
    LOG_LEVEL: 'silent',
    // A developer's own .env must not change what the tests run.
    ENV_FILE: 'none',
  };
}

function cli(folder: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: projectRoot,
    env: environment(folder),
    encoding: 'utf8',
  });
}

describe('operator CLI', () => {
  it('creates a key (alone on the last line), sets a plan, shows usage and revokes by prefix', () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-'));
    const key =
      cli(dataDir, 'keys', 'create', '--user', 'bob', '--plan', 'pro').trim().split('\n').at(-1) ?? '';
    expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);

    expect(cli(dataDir, 'plan', 'set', '--user', 'bob', '--plan', 'enterprise')).toContain('enterprise');
    const usage = cli(dataDir, 'usage', '--user', 'bob');
    expect(usage).toMatch(/plan:\s+enterprise/);
    expect(usage).toMatch(/used:\s+0 of 2000/);

    const created = cli(dataDir, 'keys', 'create', '--user', 'ops', '--admin');
    expect(created).toContain('Created an admin API key for user "ops"');
    const adminKey = created.trim().split('\n').at(-1) ?? '';

    expect(cli(dataDir, 'keys', 'revoke', key.slice(0, 12))).toContain('Revoked');
    const listed = cli(dataDir, 'keys', 'list');
    expect(listed).toMatch(/revoked/);
    // Only the key made with --admin is listed as one.
    expect(listed).toContain(`${adminKey.slice(0, 12)}…  user=ops  admin  created=`);
    expect(listed).toMatch(/user=bob {2}created=/);
  }, 30_000);

  it('fails with a clear message and a non-zero status on a mistake', () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-'));
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'plan', 'set', '--user', 'bob', '--plan', 'gold'],
      { cwd: projectRoot, env: environment(dataDir), encoding: 'utf8' },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('unknown plan "gold"');
  }, 30_000);
});
