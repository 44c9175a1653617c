#!/usr/bin/env -S npx tsx
import { parseArgs } from 'node:util';
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from '../config/load-config.ts';
/**
 * Operator commands against the service's database, on the engine the server uses (DATABASE_URL's
 * PostgreSQL, else the SQLite file under DATA_DIR):
 *   keys create --user <uid> [--plan <plan>] [--label <text>] [--admin]   prints the new key alone on the last line
 *   keys revoke <key-prefix>
 *   keys list
 *   plan set --user <uid> --plan <plan>
 *   usage --user <uid>
 *   models                                                      the catalog with each backend's readiness
 *   db import-sqlite <path to imagine.sqlite>                   copy it into the empty PostgreSQL at DATABASE_URL
 */
import { readEnvironment } from '../config/read-environment.ts';
import { ApiKeys } from '../core/accounts/api-keys.ts';
import { UserAccounts } from '../core/accounts/user-accounts.ts';
import { DatabaseUnusableError } from '../core/database/database-unusable-error.ts';
import { SqliteImportError } from '../core/database/import-sqlite/sqlite-import-error.ts';
import { openStoreEngine } from '../core/database/store-engines.ts';
import { createImageModels } from '../core/providers/create-image-models.ts';
import { ImageModelRegistry } from '../core/providers/image-model-registry.ts';
import { ReadinessChecker } from '../core/providers/model-readiness.ts';
import { QuotaLedger } from '../core/quota/quota-ledger.ts';
import { createLogger, redactedPaths } from '../logger.ts';
import { importSqliteCommand } from './import-sqlite-command.ts';
import { importTarget } from './import-target.ts';

const usageText = `Usage: npm run cli -- <command>
  keys create --user <uid> [--plan <plan>] [--label <text>] [--admin]
  keys revoke <key-prefix>
  keys list
  plan set --user <uid> --plan <plan>
  usage --user <uid>
  models
  db import-sqlite <path to imagine.sqlite>   (DATABASE_URL: the empty PostgreSQL database to fill)`;

class UsageError extends Error {}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`missing ${flag}`);
  return value;
}

/** The catalog as operators configured it, with whether each backend answers right now. */
async function printModels(config: Config): Promise<void> {
  // Probe failures are shown in the table; the log would only repeat them.
  const logger = createLogger({ ...config.logging, level: 'silent' });
  const registry = new ImageModelRegistry(
    config.models,
    createImageModels({
      catalog: config.models,
      registry: config.providerRegistry,
      providers: config.providers,
      logger,
    }),
  );
  const report = await new ReadinessChecker(registry, { logger }).check();
  const square = { width: 1024, height: 1024 };
  const rows = config.models.all().map((model, index) => {
    const readiness = report[index];
    const status = readiness?.ready ? 'ready' : (readiness?.problem ?? 'unknown');
    return [
      `${model.id}${model.id === config.generation.defaultModel ? ' (default)' : ''}`,
      model.provider,
      model.providerModel ?? '-',
      model.fixedSizes ? model.fixedSizes.map((size) => `${size.width}x${size.height}`).join(',') : 'any',
      `$${Number(model.priceUsd(square, 'high').toFixed(4))}`,
      model.plans ? model.plans.join(',') : model.premium ? 'premium' : 'all',
      model.source,
      status,
    ];
  });
  const header = ['model', 'provider', 'vendor model', 'sizes', 'price', 'plans', 'from', 'status'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      plan: { type: 'string' },
      label: { type: 'string' },
      admin: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, action, argument] = positionals;
  if (values.help || !group) {
    console.log(usageText);
    return;
  }

  if (group === 'db') {
    if (action !== 'import-sqlite') throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    const file = required(argument, '<path to imagine.sqlite>');
    // The service's settings: the import fills the database the service will open.
    await importSqliteCommand(file, importTarget(loadConfig(readEnvironment(process.env))));
    return;
  }
  const config = loadConfig(readEnvironment(process.env));
  if (group === 'models') {
    await printModels(config);
    return;
  }
  // The engine the server opens (and migrates): PostgreSQL when DATABASE_URL is set, else the SQLite file.
  const engine = await openStoreEngine({
    config,
    // Stdout is the command's answer (a new key is its last line): the rare log line goes to stderr.
    logger: pino(
      { level: config.logging.level, redact: { paths: redactedPaths, censor: '[redacted]' } },
      pino.destination(2),
    ),
    now: () => new Date(),
    commits: { committed: () => {}, failed: () => {} },
  });
  try {
    const { stores } = engine;
    const accounts = new UserAccounts(stores.accounts, config.plans);
    const apiKeys = new ApiKeys(stores.apiKeys, accounts);
    const command = `${group} ${group === 'usage' ? '' : (action ?? '')}`.trim();
    switch (command) {
      case 'keys create': {
        const user = required(values.user, '--user <uid>');
        const key = await apiKeys.create(user, {
          plan: values.plan,
          label: values.label,
          admin: values.admin,
        });
        const plan = (await accounts.appCaller(user)).plan.name;
        const kind = values.admin ? 'an admin API key' : 'an API key';
        console.log(`Created ${kind} for user "${user}" (plan ${plan}). It is shown once; store it now:`);
        console.log(key);
        return;
      }
      case 'keys revoke': {
        const prefix = await apiKeys.revoke(required(argument, '<key-prefix>'));
        console.log(`Revoked ${prefix}…`);
        return;
      }
      case 'keys list': {
        const keys = await apiKeys.list();
        if (keys.length === 0) console.log('No API keys yet.');
        for (const key of keys) {
          const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active';
          console.log(
            `${key.prefix}…  user=${key.userId}${key.admin ? '  admin' : ''}  created=${key.createdAt}  ${state}${key.label ? `  (${key.label})` : ''}`,
          );
        }
        return;
      }
      case 'plan set': {
        const user = required(values.user, '--user <uid>');
        const plan = required(values.plan, '--plan <plan>');
        await accounts.setPlan(user, plan);
        console.log(
          `User "${user}" is now on plan ${plan} (${config.plans.plans[plan]?.monthlyImages} images a month).`,
        );
        return;
      }
      case 'usage': {
        const user = required(values.user, '--user <uid>');
        const caller = await accounts.appCaller(user);
        const usage = await new QuotaLedger(stores.quota).usage(user, caller.plan.monthlyImages);
        console.log(`user:      ${user}${(await accounts.exists(user)) ? '' : ' (no account yet)'}`);
        console.log(`plan:      ${caller.plan.name}`);
        console.log(`period:    ${usage.period} (resets ${usage.resetsAt.toISOString()})`);
        console.log(
          `used:      ${usage.used} of ${usage.limit}${usage.reserved ? ` (+${usage.reserved} in progress)` : ''}`,
        );
        console.log(`remaining: ${usage.remaining}`);
        const linked = await accounts.identitiesOf(user);
        console.log(`linked:    ${linked.length > 0 ? linked.join(', ') : 'none'}`);
        return;
      }
      default:
        throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    }
  } finally {
    await engine.close();
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${usageText}`);
    process.exit(64); // EX_USAGE
  }
  if (error instanceof ConfigError || DatabaseUnusableError.isInstance(error)) {
    console.error(error.message);
    process.exit(78);
  }
  if (SqliteImportError.isInstance(error)) {
    console.error(`import-sqlite: ${error.message}`);
    process.exit(1);
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
