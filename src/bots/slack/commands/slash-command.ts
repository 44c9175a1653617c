import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ChatCheckName } from '../../../core/chat/checks/chat-check.ts';
import type { SlackContext } from '../slack-context.ts';

/** What a slash command listener receives from Bolt, in either mode. */
export type SlashCommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * One slash command: what the manifest declares (name, description, usage hint; a test holds
 * `slack/manifest.yaml` to these) and the listener Bolt calls.
 */
export interface SlashCommandDefinition {
  name: `/${string}`;
  description: string;
  usageHint: string;
  /** The core's checks the command runs before it does anything, in order. */
  checks?: readonly ChatCheckName[];
  handler(context: SlackContext): (args: SlashCommandArgs) => Promise<void>;
}

/**
 * Once-only: a delivery Slack repeats (`X-Slack-Retry-Num`, a reconnect) carries the same trigger id, and
 * is answered with an empty acknowledgement and nothing else.
 */
export async function claimCommand(context: SlackContext, args: SlashCommandArgs): Promise<boolean> {
  if (await context.processedEvents.claim(`slack:command:${args.command.trigger_id}`)) return true;
  context.logger.info(
    { command: args.command.command, retry: args.context.retryNum },
    'ignored a repeated Slack command delivery',
  );
  await args.ack();
  return false;
}

/** An ephemeral acknowledgement: only the person who typed the command sees it. */
export function ephemeral(text: string) {
  return { response_type: 'ephemeral' as const, text };
}
