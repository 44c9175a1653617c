import { usageText } from '../slack-blocks.ts';
import { slackIdentity, slackPlaceFor } from '../slack-context.ts';
import { claimCommand, ephemeral, type SlashCommandDefinition } from './slash-command.ts';

/** `/imagine-usage`: plan, images used and left this month, when it resets, and the link status. */
export const imagineUsageCommand: SlashCommandDefinition = {
  name: '/imagine-usage',
  description: 'Your plan and the images you have left this month',
  usageHint: '',
  handler: (context) => async (args) => {
    if (!(await claimCommand(context, args))) return;
    const { team_id: teamId, user_id: userId } = args.command;
    const place = await slackPlaceFor(context, args.client, { teamId, userId });
    const usage = await context.chatImages.usage(slackIdentity(teamId, userId), place);
    await args.ack(ephemeral(usageText(usage, context.workspaceMonthlyImages)));
  },
};
