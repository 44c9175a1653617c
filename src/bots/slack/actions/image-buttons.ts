import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from '@slack/bolt';
import { type ChatAction, decodeChatAction } from '../../../core/chat/action-ids.ts';
import type { ChatVaryStrength } from '../../../core/chat/chat-images.ts';
import { chatActionChecks, remixFormChecks } from '../../../core/chat/checks/chat-checks.ts';
import { shownFromRecord } from '../../../core/chat/shown-image.ts';
import type { GenerationRecord } from '../../../core/generation/generation-records.ts';
import type { SlackTarget } from '../recovered-jobs.ts';
import {
  detailsMessage,
  escapeAndTruncate,
  imageMessage,
  type RemixMetadata,
  type ResultLead,
  remixCallbackId,
  remixView,
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
type SlackClient = ButtonArgs['client'];

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
 * The buttons under posted images. Every press is acknowledged at once; Reroll, Vary (Subtle/Strong),
 * Upscale 2× and V1–V4 generate and are charged to whoever pressed (all but Reroll from the stored image); U1–U4 re-post a stored image full size for free; Details answers
 * only the presser. A press Slack delivers twice is handled once, and pressing a button again while its
 * first press is still running does nothing.
 */
export function registerImageButtons(app: App, context: SlackContext): void {
  registerRemixForm(app, context);
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
    if (!(await context.processedEvents.claim(`slack:action:${action.action_ts}:${press.userId}:${value}`))) {
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

/**
 * The submitted Remix form: the stored image with the edited prompt, charged to whoever submitted it. It runs
 * the image-making checks (as Discord's form does) before it is acknowledged, so a refusal is shown in the
 * form itself and nothing is made or charged.
 */
function registerRemixForm(app: App, context: SlackContext): void {
  app.view(remixCallbackId, async ({ ack, body, view, client }) => {
    let metadata: Partial<RemixMetadata> = {};
    try {
      metadata = JSON.parse(view.private_metadata) as Partial<RemixMetadata>;
    } catch {
      // A form we did not open: treated as one that no longer works.
    }
    const action = decodeChatAction(metadata.value ?? '');
    const prompt = view.state.values.prompt?.prompt?.value ?? '';
    const userId = body.user.id;
    const teamId = body.user.team_id ?? body.team?.id ?? '';
    const channelId = metadata.channelId;
    const press: Press = {
      userId,
      teamId,
      channelId,
      responseUrl: undefined,
      // A form has no response_url: the presser hears through an ephemeral message in the channel.
      note: (text) =>
        quietly(context.logger, 'an ephemeral note after the Remix form', async () => {
          if (channelId) await client.chat.postEphemeral({ channel: channelId, user: userId, text });
        }),
    };
    if (action?.kind !== 'remix' || !teamId) {
      await ack();
      await press.note('⚠️ This form no longer works.');
      return;
    }
    const checked = await runSlackChecks(context, client, remixFormChecks, press);
    if (!checked.ok) {
      // The form stays open with the reason under the prompt: the person can wait, or close it.
      await ack({ response_action: 'errors', errors: { prompt: checked.message } });
      return;
    }
    await ack();
    await context.work.run(async () => {
      try {
        const source = await context.chatImages.find(action.owner, action.generationId);
        await generateFrom(context, client, press, source, { kind: 'remix', prompt }, action.owner, {
          kind: 'remix',
          userId,
        });
      } catch (error) {
        if (!(error instanceof SlackDeliveryError)) await checked.undo();
        logFailure(context, error, 'the Remix form');
        await press.note(slackErrorText(error, context.now(), { charged: true }));
      }
    });
  });
}

async function runPress(context: SlackContext, args: ButtonArgs, press: Press, action: ChatAction) {
  const { chatImages } = context;
  const checked = await runSlackChecks(context, args.client, chatActionChecks(action), press);
  if (!checked.ok) {
    await press.note(checked.message);
    return;
  }
  try {
    switch (action.kind) {
      case 'details': {
        const record = await chatImages.find(action.owner, action.generationId);
        const details = detailsMessage(shownFromRecord(record), context.publicImages);
        await quietly(context.logger, 'showing image details', () =>
          args.respond({ response_type: 'ephemeral', replace_original: false, ...details }),
        );
        return;
      }
      case 'upscale': {
        const record = await chatImages.findInBatch(action.owner, action.batchId, action.index);
        await repost(context, args, press, record, action.index);
        return;
      }
      case 'reroll': {
        const source = await chatImages.find(action.owner, action.generationId);
        await generateFrom(context, args.client, press, source, { kind: 'reroll' }, action.owner, {
          kind: 'reroll',
          userId: press.userId,
        });
        return;
      }
      case 'vary':
      case 'vary-subtle': {
        const source = await chatImages.find(action.owner, action.generationId);
        const strength = action.kind === 'vary' ? 'strong' : 'subtle';
        await generateFrom(context, args.client, press, source, { kind: 'vary', strength }, action.owner, {
          kind: action.kind,
          userId: press.userId,
        });
        return;
      }
      case 'enlarge': {
        const source = await chatImages.find(action.owner, action.generationId);
        await generateFrom(context, args.client, press, source, { kind: 'enlarge' }, action.owner, {
          kind: 'enlarge',
          userId: press.userId,
        });
        return;
      }
      case 'remix': {
        // A form pre-filled with the prompt (through the press's trigger_id); its submission makes the image.
        const record = await chatImages.find(action.owner, action.generationId);
        const triggerId = (args.body as { trigger_id?: string }).trigger_id;
        if (!triggerId) {
          await press.note('⚠️ Slack did not let me open the Remix form; please press it again.');
          return;
        }
        await args.client.views.open({
          trigger_id: triggerId,
          view: remixView(record.prompt, { value: args.action.value ?? '', channelId: press.channelId }),
        });
        return;
      }
      case 'variant': {
        // V1–V4: a real variation of that grid image (image-to-image from it).
        const source = await chatImages.findInBatch(action.owner, action.batchId, action.index);
        const mode = { kind: 'vary', strength: 'strong' } as const;
        await generateFrom(context, args.client, press, source, mode, action.owner, {
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
    if (!(error instanceof SlackDeliveryError)) await checked.undo();
    logFailure(context, error, `button ${action.kind}`);
    await press.note(slackErrorText(error, context.now(), { charged: action.kind !== 'upscale' }));
  }
}

/** What a charged button makes from the stored image: the prompt again, a variation, or an upscale. */
type PressMode =
  | { kind: 'reroll' }
  | { kind: 'vary'; strength: ChatVaryStrength }
  | { kind: 'enlarge' }
  | { kind: 'remix'; prompt: string };

const pressVerbs = {
  reroll: '🎲 Rerolling',
  vary: '🔀 Making a variation of',
  enlarge: '🔍 Upscaling',
  remix: '🖌️ Remixing',
} as const;

/**
 * Reroll / Vary (Subtle, Strong) / Upscale 2× / V: a new image from a stored one (`sourceOwner`'s), charged
 * to the presser, posted in the channel.
 */
async function generateFrom(
  context: SlackContext,
  client: SlackClient,
  press: Press,
  source: GenerationRecord,
  mode: PressMode,
  sourceOwner: string,
  lead: ResultLead,
) {
  await press.note(
    `${pressVerbs[mode.kind]} *${escapeAndTruncate(source.prompt, 200)}*… it will be posted here (uses one of your images).`,
  );
  const identity = slackIdentity(press.teamId, press.userId);
  const owner = (await context.chatImages.caller(identity)).userId;
  const place = await slackPlaceFor(context, client, press);
  const call = {
    source: 'slack' as const,
    abortSignal: context.work.signal,
    target: {
      origin: 'button',
      teamId: press.teamId,
      userId: press.userId,
      channelId: press.channelId,
      responseUrl: press.responseUrl,
      lead,
    } satisfies SlackTarget,
  };
  const { chatImages } = context;
  const outcome =
    mode.kind === 'reroll'
      ? await chatImages.again(identity, place, source, 'reroll', call)
      : mode.kind === 'vary'
        ? await chatImages.vary(identity, place, sourceOwner, source.id, mode.strength, call)
        : mode.kind === 'remix'
          ? await chatImages.remix(identity, place, sourceOwner, source.id, mode.prompt, call)
          : await chatImages.upscale(identity, place, sourceOwner, source.id, 2, call);
  const posted = await postOutcome(context, client, {
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
