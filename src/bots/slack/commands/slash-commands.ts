import type { App } from '@slack/bolt';
import type { SlackContext } from '../slack-context.ts';
import { imagineCommand } from './imagine.ts';
import { imagineAdminCommand } from './imagine-admin.ts';
import { imagineBatchCommand } from './imagine-batch.ts';
import { imagineLinkCommand } from './imagine-link.ts';
import { imagineUsageCommand } from './imagine-usage.ts';
import type { SlashCommandArgs, SlashCommandDefinition } from './slash-command.ts';

/** Every slash command the app answers; `slack/manifest.yaml` declares exactly these. */
export const slashCommands: readonly SlashCommandDefinition[] = [
  imagineCommand,
  imagineBatchCommand,
  imagineUsageCommand,
  imagineLinkCommand,
  imagineAdminCommand,
];

/**
 * One Bolt listener for all of them, dispatching by name: Bolt runs every listener's filters for every
 * delivery, and acknowledging fast is what this path is for.
 */
export function registerSlashCommands(app: App, context: SlackContext): void {
  const handlers = new Map<string, (args: SlashCommandArgs) => Promise<void>>(
    slashCommands.map((definition) => [definition.name, definition.handler(context)]),
  );
  const names = new RegExp(
    `^(${slashCommands.map((definition) => escapeRegExp(definition.name)).join('|')})$`,
  );
  app.command(names, async (args) => {
    await handlers.get(args.command.command)?.(args);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
