import { ApplicationCommandType } from 'discord.js';
import type { PlanSource } from '../../../core/accounts/user-accounts.ts';
import { everywhere, type SlashCommand } from '../slash-command.ts';

/** Where the plan comes from, in the words `/usage` shows. */
function planSourceText(source: PlanSource): string {
  switch (source.kind) {
    case 'grant':
      return `from your ${source.source} in this server`;
    case 'linked-account':
      return 'from your linked app account';
    case 'guest':
      return 'the allowance for Discord users without a linked account';
    case 'account':
      return 'your account';
  }
}

/** `/usage` — the caller's plan and standing this month, privately. */
export const usageCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'usage',
    description: 'How many images you have left this month',
    ...everywhere,
  },
  generatesImages: false,
  async execute(context, bot) {
    const usage = await bot.chatImages.usage(context.identity, context.place);
    const resets = Math.floor(usage.resetsAt.getTime() / 1000);
    const lines = [
      `**Plan:** ${usage.plan} (${planSourceText(usage.planSource)})`,
      `**This month:** ${usage.used} of ${usage.limit} images used, ${usage.remaining} left`,
      `**Resets:** <t:${resets}:D> (<t:${resets}:R>)`,
      ...(usage.daily
        ? [
            `**Today:** ${usage.daily.used} of ${usage.daily.limit} images used, ${usage.daily.remaining} left (resets <t:${Math.floor(usage.daily.resetsAt.getTime() / 1000)}:R>)`,
          ]
        : []),
      usage.linkedTo
        ? `**Linked account:** \`${usage.linkedTo}\` (use /unlink to stop drawing on it)`
        : '**Linked account:** none. Get a code in the app and run /link to use your plan here.',
    ];
    await context.respond.reply(
      { embeds: [{ color: 0x5865f2, title: 'Your images', description: lines.join('\n') }] },
      { ephemeral: true },
    );
  },
};
