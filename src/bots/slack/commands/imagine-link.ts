import { commandHelp, escapeMrkdwn } from '../slack-blocks.ts';
import { type SlackContext, slackErrorText, slackIdentity } from '../slack-context.ts';
import { claimCommand, ephemeral, type SlashCommandDefinition } from './slash-command.ts';

const usageHint = '<code from the imagine app> | unlink';

/**
 * `/imagine-link ABCD2345`: from now on this Slack user draws on the app account that created the code
 * (its plan and quota). `/imagine-link unlink` goes back to the guest plan.
 */
export const imagineLinkCommand: SlashCommandDefinition = {
  name: '/imagine-link',
  description: 'Use your imagine app account (and its plan) from Slack',
  usageHint,
  handler: (context) => async (args) => {
    if (!(await claimCommand(context, args))) return;
    const { command } = args;
    const code = command.text.trim();
    const identity = slackIdentity(command.team_id, command.user_id);
    await args.ack(ephemeral(await linkReply(context, identity, code, command.command)));
  },
};

async function linkReply(
  context: SlackContext,
  identity: string,
  code: string,
  command: string,
): Promise<string> {
  if (!code) return commandHelp(command, usageHint);
  // Link codes never contain I or L, so "unlink" cannot be a code.
  if (code.toLowerCase() === 'unlink') {
    return (await context.chatImages.unlink(identity))
      ? '✅ Unlinked. Your images now count toward the guest plan.'
      : 'This Slack account is not linked to an app account.';
  }
  try {
    const account = await context.chatImages.link(identity, code);
    const usage = await context.chatImages.usage(identity);
    return `✅ Linked to app account \`${escapeMrkdwn(account)}\` (${escapeMrkdwn(usage.plan)} plan): ${usage.remaining} of ${usage.limit} images left this month.`;
  } catch (error) {
    return slackErrorText(error, context.now());
  }
}
