import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord.js';
import { booleanOption, commandOptions } from '../interaction-context.ts';
import { settingsMessage } from '../settings-menu.ts';
import { everywhere, type SlashCommand } from '../slash-command.ts';

/** `/settings` — your own defaults (style, aspect ratio, model, enhance, private), privately; `reset` clears them. */
export const settingsCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'settings',
    description: 'Your defaults for /imagine: style, aspect ratio, model, enhance, private results',
    options: [
      {
        type: ApplicationCommandOptionType.Boolean,
        name: 'reset',
        description: 'Back to the bot’s defaults',
      },
    ],
    ...everywhere,
  },
  generatesImages: false,
  async execute(context, bot) {
    const reset = booleanOption(commandOptions(context.interaction), 'reset') === true;
    if (reset) await bot.chatImages.settings.reset(context.identity);
    const settings = await bot.chatImages.settings.get(context.identity);
    await context.respond.reply(
      await settingsMessage(
        context,
        bot,
        settings,
        reset ? 'Your settings are back to the defaults.' : undefined,
      ),
      { ephemeral: true },
    );
  },
};
