/**
 * Chat generations a crashed process left behind, finished by the Slack app: the core hands each one back
 * with the `target` stored when it began, and it is run again and posted exactly as the normal path would.
 */
import type { webApi } from '@slack/bolt';
import type { RecoveredChatJob } from '../../core/chat/chat-images.ts';
import { doneText, type ResultLead } from './slack-blocks.ts';
import { logFailure, postOutcome, quietly, type SlackContext, slackErrorText } from './slack-context.ts';

/** Where a Slack generation's reply goes: kept on the job (as JSON) so it can still be delivered after a crash. */
export interface SlackTarget {
  /** A slash command replaces its ephemeral "working on it"; a button press adds ephemeral notes. */
  origin: 'command' | 'button';
  teamId: string;
  userId: string;
  /** Undefined when the request came from no conversation. */
  channelId: string | undefined;
  responseUrl: string | undefined;
  lead: ResultLead;
  /** The thread the result goes in, when the request came from a message in one. */
  threadTs?: string | undefined;
}

/** Slack accepts posts to a response_url for 30 minutes after the command or press. */
const responseUrlLifetimeMs = 30 * 60_000;

export const abandonedText =
  'The app restarted while your image was being made; you were not charged. Please try again.';

/** The target as stored (JSON drops undefined fields); undefined when it is not one of ours. */
export function readSlackTarget(stored: unknown): SlackTarget | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const target = stored as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const teamId = text(target.teamId);
  const userId = text(target.userId);
  const lead = target.lead as ResultLead | undefined;
  if (!teamId || !userId || typeof lead?.kind !== 'string' || typeof lead.userId !== 'string') {
    return undefined;
  }
  const responseUrl = text(target.responseUrl);
  return {
    origin: target.origin === 'button' ? 'button' : 'command',
    teamId,
    userId,
    channelId: text(target.channelId),
    // Only ever an https URL (Slack's), never somewhere a stored row could point elsewhere.
    responseUrl: responseUrl?.startsWith('https://') ? responseUrl : undefined,
    lead,
    threadTs: text(target.threadTs),
  };
}

/**
 * Takes up one recovered job: runs it again, posts the result in its channel, and tells the person how it
 * went: replacing "working on it" while the response_url still works, else ephemerally in the channel.
 */
export async function finishRecoveredJob(
  context: SlackContext,
  client: webApi.WebClient,
  fetchFunction: typeof fetch,
  job: RecoveredChatJob,
): Promise<void> {
  const target = readSlackTarget(job.target);
  // Checked when answering, not when starting: the generation itself takes a while.
  const responseUrl = () =>
    target?.responseUrl && context.now().getTime() - job.createdAt.getTime() < responseUrlLifetimeMs
      ? target.responseUrl
      : undefined;
  /** Answers on the response_url while it works; false when it no longer does. */
  const respond = async (text: string): Promise<boolean> => {
    const url = responseUrl();
    if (!url) return false;
    await quietly(context.logger, 'answering a recovered job on its response_url', async () => {
      const response = await fetchFunction(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          response_type: 'ephemeral',
          replace_original: target?.origin === 'command',
          text,
        }),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`the response_url answered ${response.status}`);
    });
    return true;
  };

  if (!target?.channelId) {
    context.logger.warn(
      { jobId: job.jobId },
      'a recovered Slack job has nowhere to be posted; abandoning it',
    );
    job.abandon(abandonedText);
    if (target) await respond(`⚠️ ${abandonedText}`);
    return;
  }
  const { channelId, userId } = target;

  let reply: string | undefined;
  let failed = false;
  try {
    const outcome = await job.rerun();
    const posted = await postOutcome(context, client, {
      outcome,
      owner: (await context.chatImages.caller(job.identity)).userId,
      channelId,
      userId,
      lead: target.lead,
      threadTs: target.threadTs,
    });
    context.logger.info({ jobId: job.jobId, channel: posted.channelId }, 'delivered a recovered Slack job');
    if (target.origin === 'command') reply = doneText(outcome.usage.remaining, outcome.usage.limit, posted);
    else if (posted.inDirectMessage) {
      reply = 'I cannot post in this conversation, so I sent the new image to you in a direct message.';
    }
  } catch (error) {
    logFailure(context, error, 'a recovered job');
    reply = slackErrorText(error, context.now());
    failed = true;
  }
  if (reply === undefined || (await respond(reply)) || !failed) return;
  // The response_url has expired: a failure still reaches the person, only them, in the channel.
  const text = reply;
  await quietly(context.logger, 'telling the person about a recovered job', () =>
    client.chat.postEphemeral({ channel: channelId, user: userId, text }),
  );
}
