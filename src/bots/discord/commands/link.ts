import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord.js';
import { commandOptions, stringOption } from '../interaction-context.ts';
import { everywhere, type SlashCommand } from '../slash-command.ts';

/** `/link code:` — redeem a code from the app, so this Discord account draws on the app account's plan. */
export const linkCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'link',
    description: 'Use your app account’s plan here, with a code from the app',
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'code',
        description: 'The link code the app shows (valid for 10 minutes)',
        required: true,
        min_length: 4,
        max_length: 32,
      },
    ],
    ...everywhere,
  },
  generatesImages: false,
  async execute(context, bot) {
    const code = stringOption(commandOptions(context.interaction), 'code') ?? '';
    const account = await bot.chatImages.link(context.identity, code);
    const usage = await bot.chatImages.usage(context.identity, context.place);
    await context.respond.reply(
      {
        content:
          `Linked to your app account \`${account}\`. You now use its **${usage.plan}** plan: ` +
          `${usage.remaining} of ${usage.limit} images left this month.`,
      },
      { ephemeral: true },
    );
  },
};
