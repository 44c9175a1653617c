import { type REST, Routes } from 'discord.js';
import type { Logger } from 'pino';
import { chatErrorMessage } from '../../core/chat/chat-error-message.ts';
import type { ChatImages, RecoveredChatJob } from '../../core/chat/chat-images.ts';
import type { GenerationOutcome } from '../../core/generation/image-generator.ts';
import { DeliveryError } from './delivery-error.ts';
import { sendResult } from './generation-flow.ts';
import { InteractionResponder, type OutgoingMessage } from './interaction-responder.ts';
import { parseReplyTarget } from './reply-target.ts';
import { outcomeMessage } from './result-message.ts';

export const abandonedReason =
  'The bot restarted while your image was being made; you were not charged. Please try again.';

/**
 * Takes up a Discord generation a crashed process left: while the interaction token lasts, runs it again
 * and edits the deferred reply with the result; after that, posts it in the channel with the bot token
 * (naming the requester without a ping); where neither is possible, ends it uncharged.
 */
export async function deliverRecovered(
  job: RecoveredChatJob,
  dependencies: {
    chatImages: ChatImages;
    /** Bot-token client (channel messages). */
    rest: REST;
    /** Interaction-token client (webhook edits). */
    webhooks: REST;
    logger: Logger;
    now: () => Date;
    /** How long an interaction token is still worth using. */
    tokenLifetimeMs: number;
  },
): Promise<void> {
  const { logger, now } = dependencies;
  const log = logger.child({ jobId: job.jobId });
  const target = parseReplyTarget(job.target);
  const tokenValid = () => now().getTime() - job.createdAt.getTime() < dependencies.tokenLifetimeMs;
  if (!target || (!tokenValid() && !target.channelId)) {
    log.warn('a recovered Discord generation can no longer be delivered; abandoned');
    job.abandon(abandonedReason);
    return;
  }
  const { channelId } = target;

  let outcome: GenerationOutcome | undefined;
  let failure: unknown;
  try {
    outcome = await job.rerun();
  } catch (error) {
    failure = error;
  }

  // Decided after the run: the token may have run out meanwhile, and then the channel is the way.
  const useToken = !channelId || tokenValid();
  const respond = useToken
    ? new InteractionResponder({
        rest: dependencies.webhooks,
        applicationId: target.applicationId,
        token: target.interactionToken,
        sendInitial: async () => {
          throw new Error('a recovered interaction was answered already');
        },
        transport: 'gateway',
        logger: log,
      })
    : undefined;
  const send = async (message: OutgoingMessage): Promise<void> => {
    if (respond || !channelId) {
      await respond?.editOriginal(message);
      return;
    }
    await dependencies.rest.post(Routes.channelMessages(channelId), {
      body: message.body,
      ...(message.files?.length ? { files: message.files } : {}),
    });
  };
  const sendText = async (text: string): Promise<void> => {
    try {
      await send({
        body: {
          content: `<@${target.requesterId}> ${text}`,
          embeds: [],
          components: [],
          attachments: [],
          allowed_mentions: { parse: [] },
        },
      });
    } catch (error) {
      log.error({ err: error }, 'could not tell the Discord user how a recovered generation ended');
    }
  };

  if (!outcome) {
    log.warn({ err: failure }, 'a recovered Discord generation failed');
    await sendText(chatErrorMessage(failure, now()));
    return;
  }
  const imageUrl = outcome.images[0]?.imageUrl ?? '';
  try {
    const message = await outcomeMessage(outcome, {
      owner: (await dependencies.chatImages.caller(job.identity)).userId,
      requesterId: target.requesterId,
      uploadLimitBytes: target.uploadLimitBytes,
      standing: outcome.usage,
    });
    await sendResult(send, message, imageUrl, (error) =>
      log.warn({ err: error }, 'posting a recovered Discord result failed'),
    );
    log.info({ via: respond ? 'interaction' : 'channel' }, 'delivered a recovered Discord generation');
  } catch (error) {
    log.error({ err: error }, 'could not deliver a recovered Discord generation');
    await sendText(
      error instanceof DeliveryError ? error.userMessage : new DeliveryError(imageUrl).userMessage,
    );
  }
}
