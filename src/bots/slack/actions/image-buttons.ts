import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from '@slack/bolt';
import { type ChatAction, decodeChatAction } from '../../../core/chat/action-ids.ts';
import { chatActionChecks } from '../../../core/chat/checks/chat-checks.ts';
import { shownFromRecord } from '../../../core/chat/shown-image.ts';
import type { GenerationRecord } from '../../../core/generation/generation-records.ts';
import type { SlackTarget } from '../recovered-jobs.ts';
import {
  detailsMessage,
  escapeAndTruncate,
  imageMessage,
  type ResultLead,
  truncate,
} from '../slack-blocks.ts';
import {
  fileExtension,
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

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Who pressed, where, and a way to answer only them. */
interface Press {
  userId: string;
  teamId: string;
  channelId: string | undefined;
  /** Where `note` posts: kept on a generation so it can still answer after a restart. */
  responseUrl: string | undefined;
  /** An ephemeral line to the presser (the message with the button stays as it is). */
  note(text: string): Promise<void>;
}

/**
 * The buttons under posted images. Every press is acknowledged at once; Reroll, Vary and V1–V4 generate
 * and are charged to whoever pressed; U1–U4 re-post a stored image full size for free; Details answers
 * only the presser. A press Slack delivers twice is handled once, and pressing a button again while its
 * first press is still running does nothing.
 */
export function registerImageButtons(app: App, context: SlackContext): void {
  const running = new Set<string>();
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: /^imagine_/ }, async (args) => {
    await args.ack();
    const { action, body, respond } = args;
    const press: Press = {
      userId: body.user.id,
      teamId: body.user.team_id ?? body.team?.id ?? '',
      channelId: body.channel?.id,
      responseUrl: body.response_url,
      note: (text) =>
        quietly(context.logger, 'an ephemeral reply to a button', () =>
          respond({ response_type: 'ephemeral', replace_original: false, text }),
        ),
    };
    const value = action.value ?? '';
    const chatAction = decodeChatAction(value);
    if (!chatAction || !press.teamId) {
      await press.note('⚠️ This button no longer works.');
      return;
    }
    if (!context.processedEvents.claim(`slack:action:${action.action_ts}:${press.userId}:${value}`)) {
      context.logger.info({ retry: args.context.retryNum }, 'ignored a repeated Slack button delivery');
      return;
    }
    const pressKey = `${press.teamId}|${press.userId}|${value}`;
    if (running.has(pressKey)) {
      await press.note('⏳ Still working on that one.');
      return;
    }
    running.add(pressKey);
    try {
      await context.work.run(() => runPress(context, args, press, chatAction));
    } finally {
      running.delete(pressKey);
    }
  });
}

async function runPress(context: SlackContext, args: ButtonArgs, press: Press, action: ChatAction) {
  const { chatImages } = context;
  const checked = runSlackChecks(context, chatActionChecks(action), press);
  if (!checked.ok) {
    await press.note(checked.message);
    return;
  }
  try {
    switch (action.kind) {
      case 'details': {
        const record = chatImages.find(action.owner, action.generationId);
        const details = detailsMessage(shownFromRecord(record), context.publicImages);
        await quietly(context.logger, 'showing image details', () =>
          args.respond({ response_type: 'ephemeral', replace_original: false, ...details }),
        );
        return;
      }
      case 'upscale': {
        const record = chatImages.findInBatch(action.owner, action.batchId, action.index);
        await repost(context, args, press, record, action.index);
        return;
      }
      case 'reroll':
      case 'vary': {
        const source = chatImages.find(action.owner, action.generationId);
        await generateFrom(context, args, press, source, action.kind, {
          kind: action.kind,
          userId: press.userId,
        });
        return;
      }
      case 'variant': {
        const source = chatImages.findInBatch(action.owner, action.batchId, action.index);
        await generateFrom(context, args, press, source, 'vary', {
          kind: 'variant',
          userId: press.userId,
          index: action.index,
        });
        return;
      }
      case 'delete':
        await press.note('Slack messages are removed with Slack’s own “Delete message”.');
        return;
    }
  } catch (error) {
    if (!(error instanceof SlackDeliveryError)) checked.undo();
    logFailure(context, error, `button ${action.kind}`);
    await press.note(slackErrorText(error, context.now(), { charged: action.kind !== 'upscale' }));
  }
}

/** Reroll / Vary / V: a new image from a stored one, charged to the presser, posted in the channel. */
async function generateFrom(
  context: SlackContext,
  args: ButtonArgs,
  press: Press,
  source: GenerationRecord,
  mode: 'reroll' | 'vary',
  lead: ResultLead,
) {
  const verb = mode === 'reroll' ? '🎲 Rerolling' : '🔀 Making a variation of';
  await press.note(
    `${verb} *${escapeAndTruncate(source.prompt, 200)}*… it will be posted here (uses one of your images).`,
  );
  const identity = slackIdentity(press.teamId, press.userId);
  const owner = context.chatImages.caller(identity).userId;
  const place = await slackPlaceFor(context, args.client, press);
  const outcome = await context.chatImages.again(identity, place, source, mode, {
    source: 'slack',
    abortSignal: context.work.signal,
    target: {
      origin: 'button',
      teamId: press.teamId,
      userId: press.userId,
      channelId: press.channelId,
      responseUrl: press.responseUrl,
      lead,
    } satisfies SlackTarget,
  });
  const posted = await postOutcome(context, args.client, {
    outcome,
    owner,
    channelId: press.channelId,
    userId: press.userId,
    lead,
  });
  if (posted.inDirectMessage) {
    await press.note(
      'I cannot post in this conversation, so I sent the new image to you in a direct message.',
    );
  }
}

/** U: a stored batch image posted full size. Nothing is generated, so nothing is charged. */
async function repost(
  context: SlackContext,
  args: ButtonArgs,
  press: Press,
  record: GenerationRecord,
  index: number,
) {
  const bytes = await context.chatImages.read(record);
  const shown = shownFromRecord(record);
  const posted = await context.delivery.postImage(args.client, {
    channelId: press.channelId,
    userId: press.userId,
    bytes,
    filename: `imagine-${record.id}.${fileExtension(record.contentType)}`,
    title: truncate(record.prompt, 200),
    altText: record.promptUsed,
    message: imageMessage(shown, { kind: 'upscale', userId: press.userId, index }),
    publicImageUrl: context.publicImages ? record.imageUrl : undefined,
  });
  if (posted.inDirectMessage) {
    await press.note('I cannot post in this conversation, so I sent the image to you in a direct message.');
  }
}
