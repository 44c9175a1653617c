/**
 * `npm run discord:register`: registers the slash commands from the same definitions the handlers use,
 * globally or to DISCORD_GUILD_ID (instant updates while developing), and prints what changed.
 * `npm run discord:register -- --remove` removes them instead (e.g. a server's copies after going global).
 */

import { DiscordAPIError } from 'discord.js';
import { ConfigError, loadConfig } from '../../config/load-config.ts';
import { readEnvironment } from '../../config/read-environment.ts';
import { formatRegistrationReport, registerCommands } from './command-registration.ts';
import { commandDefinitions } from './commands/index.ts';
import { createDiscordRest } from './discord-rest.ts';

async function main(): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(readEnvironment(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  const discord = config.discord;
  if (!discord) {
    process.stderr.write(
      'DISCORD_BOT_TOKEN is not set: the Discord bot is off, so there is nothing to register.\n',
    );
    return 78;
  }
  const rest = createDiscordRest(discord.botToken, { api: discord.apiBaseUrl });
  try {
    const report = await registerCommands({
      rest,
      applicationId: discord.applicationId,
      guildId: discord.guildId,
      definitions: process.argv.includes('--remove') ? [] : commandDefinitions(),
    });
    process.stdout.write(formatRegistrationReport(report));
    return 0;
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`discord:register failed: ${explain(error)}\n`);
    process.exitCode = 1;
  },
);

function explain(error: unknown): string {
  if (error instanceof DiscordAPIError) {
    if (error.status === 401)
      return 'Discord refused DISCORD_BOT_TOKEN; copy the token again from the Bot page.';
    if (error.status === 403 || error.status === 404) {
      return `${error.message}. Check DISCORD_APPLICATION_ID, and that the bot was invited to DISCORD_GUILD_ID with the applications.commands scope.`;
    }
    return error.message;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
