import { ApplicationCommandType } from 'discord.js';
import { everywhere, type SlashCommand } from '../slash-command.ts';

/** `/unlink` — stop drawing on the linked app account; back to the guest allowance. */
export const unlinkCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'unlink',
    description: 'Stop using your app account’s plan here',
    ...everywhere,
  },
  generatesImages: false,
  async execute(context, bot) {
    const wasLinked = await bot.chatImages.unlink(context.identity);
    const usage = await bot.chatImages.usage(context.identity, context.place);
    const standing = `${usage.remaining} of ${usage.limit} images left this month on the ${usage.plan} plan.`;
    await context.respond.reply(
      {
        content: wasLinked
          ? `Unlinked. You are back to the allowance for Discord users: ${standing}`
          : `This Discord account was not linked to an app account. You have ${standing}`,
      },
      { ephemeral: true },
    );
  },
};
