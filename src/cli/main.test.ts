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

function environment(folder: string, extra: Record<string, string> = {}) {
  return {
    ...extra,
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    DATA_DIR: folder,
    LOG_LEVEL: 'silent',
    // A developer's own .env must not change what the tests run.
    ENV_FILE: 'none',
  };
}

function cli(folder: string, ...args: string[]): string {
  return cliWith({}, folder, ...args);
}

function cliWith(extra: Record<string, string>, folder: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: projectRoot,
    env: environment(folder, extra),
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

  it('prints the catalog, models from MODELS_FILE included, with whether each can be called', () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-'));
    const file = path.join(dataDir, 'models.yaml');
    fs.writeFileSync(
      file,
      [
        'models:',
        '  - id: schnell-team',
        '    provider: replicate',
        '    vendor_model: black-forest-labs/flux-schnell',
        '    price_usd: 0.003',
        '    plans: [pro]',
        '    api_key_env: TEAM_REPLICATE_TOKEN',
      ].join('\n'),
    );
    const lines = cliWith({ MODELS_FILE: file, TEAM_REPLICATE_TOKEN: 'r8_team' }, dataDir, 'models').split(
      '\n',
    );
    expect(lines[0]).toMatch(/^model\s+provider\s+vendor model\s+sizes\s+price\s+plans\s+from\s+status$/);
    expect(lines.find((line) => line.startsWith('placeholder (default)'))).toMatch(/built-in\s+ready$/);
    expect(lines.find((line) => line.startsWith('flux-dev '))).toMatch(
      /\$0\.025\s+all\s+built-in\s+not_configured$/,
    );
    expect(lines.find((line) => line.startsWith('dall-e-3 '))).toMatch(
      /1024x1024,1792x1024,1024x1792\s+\$0\.08\s+premium/,
    );
    expect(lines.find((line) => line.startsWith('schnell-team '))).toMatch(
      /replicate\s+black-forest-labs\/flux-schnell\s+any\s+\$0\.003\s+pro\s+models file\s+ready$/,
    );
    expect(lines.join('\n')).not.toContain('r8_team');
  }, 30_000);

  it('stops with status 78 and the entry and field when MODELS_FILE is wrong', () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-'));
    const file = path.join(dataDir, 'models.json');
    fs.writeFileSync(file, JSON.stringify({ models: [{ id: 'gpu', provider: 'replicate', sizes: 'huge' }] }));
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'models'], {
      cwd: projectRoot,
      env: environment(dataDir, { MODELS_FILE: file }),
      encoding: 'utf8',
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`MODELS_FILE ${file}: models[0] (id "gpu"): sizes: must be "any"`);
  }, 30_000);
});
