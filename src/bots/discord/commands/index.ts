import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { SlashCommand } from '../slash-command.ts';
import { imagineCommand } from './imagine.ts';
import { imagineAdminCommand } from './imagine-admin.ts';
import { imagineBatchCommand } from './imagine-batch.ts';
import { linkCommand } from './link.ts';
import { settingsCommand } from './settings.ts';
import { unlinkCommand } from './unlink.ts';
import { usageCommand } from './usage.ts';

/** Every slash command, one file each: the router serves these and `discord:register` registers them. */
export const slashCommands: readonly SlashCommand[] = [
  imagineCommand,
  imagineBatchCommand,
  usageCommand,
  linkCommand,
  unlinkCommand,
  settingsCommand,
  imagineAdminCommand,
];

/** What `npm run discord:register` sends to Discord. */
export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return slashCommands.map((command) => command.definition);
}
