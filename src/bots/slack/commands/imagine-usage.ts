import { usageText } from '../slack-blocks.ts';
import { slackIdentity } from '../slack-context.ts';
import { claimCommand, ephemeral, type SlashCommandDefinition } from './slash-command.ts';

/** `/imagine-usage`: plan, images used and left this month, when it resets, and the link status. */
export const imagineUsageCommand: SlashCommandDefinition = {
  name: '/imagine-usage',
  description: 'Your plan and the images you have left this month',
  usageHint: '',
  handler: (context) => async (args) => {
    if (!(await claimCommand(context, args))) return;
    const usage = context.chatImages.usage(slackIdentity(args.command.team_id, args.command.user_id));
    await args.ack(ephemeral(usageText(usage, context.workspaceMonthlyImages)));
  },
};
