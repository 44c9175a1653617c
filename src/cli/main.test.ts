/** The operator CLI as operators script it: `npm run cli -- …` against a DATA_DIR, or DATABASE_URL's PostgreSQL. */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../core/database/open-database.ts';
import { createPostgresPool } from '../core/database/postgres/open-postgres.ts';
import { createPostgresTestDatabase } from '../test-support/postgres-test-database.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');
// Starting PGlite (WebAssembly) takes seconds on a small machine: a start-up cost, not a race.
const startUpMs = 60_000;
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

/**
 * Runs the CLI and waits without blocking: on a machine without the PostgreSQL server, PGlite answers the
 * child from this process. A failure rejects with the command's stderr.
 */
function cliWith(extra: Record<string, string>, folder: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: projectRoot, env: environment(folder, extra), encoding: 'utf8' },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** Where the commands keep their rows, and what to check there once the CLI is done. */
interface EngineUnderTest {
  variables: Record<string, string>;
  /** The API keys in the database, counted after the commands ran. */
  apiKeys(): Promise<number>;
  close(): Promise<void>;
}

const engines: { name: string; open(folder: string): Promise<EngineUnderTest> }[] = [
  {
    name: 'SQLite under DATA_DIR',
    async open(folder) {
      return {
        variables: {},
        async apiKeys() {
          const database = openDatabase(path.join(folder, 'imagine.sqlite'));
          try {
            return (database.prepare('SELECT count(*) AS count FROM api_keys').get() as { count: number })
              .count;
          } finally {
            database.close();
          }
        },
        close: async () => {},
      };
    },
  },
  {
    name: 'PostgreSQL at DATABASE_URL',
    async open(folder) {
      const target = await createPostgresTestDatabase();
      return {
        variables: { DATABASE_URL: target.url, DATABASE_POOL_SIZE: String(target.poolSize) },
        async apiKeys() {
          // Nothing was written beside the database the config names.
          expect(fs.existsSync(path.join(folder, 'imagine.sqlite'))).toBe(false);
          // Opened only now: PGlite serves one connection at a time, and the CLI's are closed.
          const sql = createPostgresPool({ url: target.url, poolSize: 1 });
          try {
            const [row] = await sql<{ count: number }[]>`SELECT count(*)::integer AS count FROM api_keys`;
            return row?.count ?? 0;
          } finally {
            await sql.end();
          }
        },
        close: () => target.drop(),
      };
    },
  },
];

describe.each(engines)('operator CLI on $name', ({ open }) => {
  it(
    'creates a key (alone on the last line), sets a plan, shows usage and revokes by prefix',
    async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-'));
      const folder = dataDir;
      const engine = await open(folder);
      try {
        const cli = (...args: string[]) => cliWith(engine.variables, folder, ...args);
        const key =
          (await cli('keys', 'create', '--user', 'bob', '--plan', 'pro')).trim().split('\n').at(-1) ?? '';
        expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);

        expect(await cli('plan', 'set', '--user', 'bob', '--plan', 'enterprise')).toContain('enterprise');
        const usage = await cli('usage', '--user', 'bob');
        expect(usage).toMatch(/plan:\s+enterprise/);
        expect(usage).toMatch(/used:\s+0 of 2000/);

        // ops already has a plain key: --admin makes a new admin key and leaves that one as it was.
        const plainKey = (await cli('keys', 'create', '--user', 'ops')).trim().split('\n').at(-1) ?? '';
        const created = await cli('keys', 'create', '--user', 'ops', '--admin');
        expect(created).toContain('Created an admin API key for user "ops"');
        const adminKey = created.trim().split('\n').at(-1) ?? '';

        expect(await cli('keys', 'revoke', key.slice(0, 12))).toContain('Revoked');
        const listed = await cli('keys', 'list');
        expect(listed).toMatch(/revoked/);
        // Only the key made with --admin is listed as one.
        expect(listed).toContain(`${adminKey.slice(0, 12)}…  user=ops  admin  created=`);
        expect(listed).toContain(`${plainKey.slice(0, 12)}…  user=ops  created=`);
        expect(listed).toMatch(/user=bob {2}created=/);

        // The rows are in the database the config names, and the CLI closed it.
        expect(await engine.apiKeys()).toBe(3);
      } finally {
        await engine.close();
      }
    },
    startUpMs,
  );

  it(
    'fails with a clear message and a non-zero status on a mistake',
    async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-cli-'));
      const engine = await open(dataDir);
      try {
        await expect(
          cliWith(engine.variables, dataDir, 'plan', 'set', '--user', 'bob', '--plan', 'gold'),
        ).rejects.toThrow('unknown plan "gold"');
      } finally {
        await engine.close();
      }
    },
    startUpMs,
  );
});

describe('operator CLI', () => {
  it('prints the catalog, models from MODELS_FILE included, with whether each can be called', async () => {
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
    const lines = (
      await cliWith({ MODELS_FILE: file, TEAM_REPLICATE_TOKEN: 'r8_team' }, dataDir, 'models')
    ).split('\n');
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
