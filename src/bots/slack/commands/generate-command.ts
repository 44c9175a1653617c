import type { ChatCheckName } from '../../../core/chat/checks/chat-check.ts';
import { throttledProgress } from '../../../core/chat/progress-updates.ts';
import { parsePromptFlags } from '../../../core/chat/prompt-flags.ts';
import type { SlackTarget } from '../recovered-jobs.ts';
import { commandHelp, doneText, type ResultLead, workingText } from '../slack-blocks.ts';
import {
  logFailure,
  postOutcome,
  quietly,
  runSlackChecks,
  type SlackContext,
  slackErrorText,
  slackIdentity,
  slackPlaceFor,
} from '../slack-context.ts';
import { SlackDeliveryError } from '../slack-delivery.ts';
import { claimCommand, ephemeral, type SlashCommandArgs } from './slash-command.ts';

/**
 * `/imagine` and `/imagine-batch`: acknowledge at once with an ephemeral "working on it", generate through
 * the core (charged to whoever typed), post the result in the channel, then replace "working on it" with
 * what happened: done and how many images are left, or why not. It is never left standing.
 */
export async function runGenerateCommand(
  context: SlackContext,
  args: SlashCommandArgs,
  shape: { batch: boolean; usageHint: string; checks: readonly ChatCheckName[] },
): Promise<void> {
  const { command, ack, respond, client } = args;
  if (!(await claimCommand(context, args))) return;
  const text = command.text.trim();
  if (!text) {
    await ack(ephemeral(commandHelp(command.command, shape.usageHint)));
    return;
  }
  const checked = await runSlackChecks(context, client, shape.checks, {
    teamId: command.team_id,
    userId: command.user_id,
    channelId: command.channel_id,
  });
  if (!checked.ok) {
    await ack(ephemeral(checked.message));
    return;
  }
  await ack(ephemeral(workingText(promptPart(text), context.queuePosition())));

  const identity = slackIdentity(command.team_id, command.user_id);
  // Private (`--private` or the App Home setting): the image goes to the person's DM, never the channel.
  const privately = await context.chatImages.isPrivate(identity, typedFlags(text)?.private);
  const lead: ResultLead = { kind: 'imagine', userId: command.user_id };
  const target: SlackTarget = {
    origin: 'command',
    teamId: command.team_id,
    userId: command.user_id,
    channelId: privately ? undefined : command.channel_id,
    responseUrl: command.response_url,
    lead,
  };
  await context.work.run(async () => {
    let reply: string;
    const liveProgress = throttledProgress(
      (percent) =>
        respond({
          response_type: 'ephemeral',
          replace_original: true,
          text: workingText(promptPart(text), undefined, percent),
        }).then(() => undefined),
      { onError: (error) => context.logger.warn({ err: error }, 'showing progress failed') },
    );
    try {
      const owner = (await context.chatImages.caller(identity)).userId;
      const outcome = await context.chatImages.create(
        identity,
        await slackPlaceFor(context, client, { teamId: command.team_id, userId: command.user_id }),
        { text, count: shape.batch ? batchCount(text, context.defaultBatchSize) : undefined },
        {
          source: 'slack',
          abortSignal: context.work.signal,
          target,
          // The user's earlier images are still being made: say where this one stands.
          onQueued: (position) =>
            void quietly(context.logger, 'showing the queue position', () =>
              respond({
                response_type: 'ephemeral',
                replace_original: true,
                text: workingText(promptPart(text), position),
              }),
            ),
          onProgress: (fraction) => liveProgress.update(fraction),
        },
      );
      await liveProgress.stop();
      const posted = await postOutcome(context, client, {
        outcome,
        owner,
        channelId: privately ? undefined : command.channel_id,
        userId: command.user_id,
        lead,
      });
      reply = doneText(outcome.usage.remaining, outcome.usage.limit, posted, { privately });
    } catch (error) {
      await liveProgress.stop();
      // Made but not accepted by Slack: the image was charged, so its cooldown stands.
      if (!(error instanceof SlackDeliveryError)) await checked.undo();
      logFailure(context, error, command.command);
      reply = slackErrorText(error, context.now());
    }
    await quietly(context.logger, 'replacing the "working on it" message', () =>
      respond({ response_type: 'ephemeral', replace_original: true, text: reply }),
    );
  });
}

/** The prompt without its flags, for the "working on it" line (the flags are checked by the core). */
function promptPart(text: string): string {
  const flagStart = text.search(/(^|\s)(--|[\u2013\u2014])[a-z]/i);
  return (flagStart < 0 ? text : text.slice(0, flagStart)).trim() || text;
}

/** The flags typed, or undefined when they do not parse (the core words that error). */
function typedFlags(text: string) {
  try {
    return parsePromptFlags(text);
  } catch {
    return undefined;
  }
}

/** `--n` when typed, else the batch default; a bad flag is left for the core to word. */
function batchCount(text: string, defaultBatchSize: number): number {
  try {
    return parsePromptFlags(text).count ?? defaultBatchSize;
  } catch {
    return defaultBatchSize;
  }
}
