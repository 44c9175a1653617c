import { MessageFlags } from 'discord.js';
import type { ChatCallContext } from '../../core/chat/chat-images.ts';
import { throttledProgress } from '../../core/chat/progress-updates.ts';
import type { GenerationOutcome } from '../../core/generation/image-generator.ts';
import { DeliveryError } from './delivery-error.ts';
import type { InteractionContext } from './interaction-context.ts';
import type { OutgoingMessage } from './interaction-responder.ts';
import { replyTarget } from './reply-target.ts';
import {
  asSpoiler,
  type GenerationProgress,
  outcomeMessage,
  progressMessage,
  withoutImage,
} from './result-message.ts';
import type { DiscordBotServices } from './slash-command.ts';

/**
 * The public life of one generation, shared by the commands and the charged buttons: acknowledge at
 * once, say it is being made, then replace that with the image. A failure propagates to the router,
 * which deletes the public message and tells the person privately.
 */
export async function deliverGeneration(
  context: InteractionContext,
  bot: DiscordBotServices,
  job: {
    headline: string;
    run: (call: ChatCallContext) => Promise<GenerationOutcome>;
    /** `/imagine private:`; unset: private when pressed under a private result or the person's setting says so. */
    private?: boolean | undefined;
  },
): Promise<void> {
  // The quota subject the buttons will name: whoever's account pays for this generation.
  const owner = (await bot.chatImages.caller(context.identity)).userId;
  const ephemeral = await privateResult(context, bot, job.private);
  // Private (Midjourney's Stealth): an ephemeral reply only the person sees; its buttons work for them.
  await context.respond.defer({ ephemeral });
  // Other interactions waiting on the socket get their deferral first: theirs is on a 3-second clock.
  await new Promise((resolve) => setImmediate(resolve));
  let progress: GenerationProgress = { stage: 'generating' };
  let shown = false;
  const liveProgress = throttledProgress(
    (percent) =>
      context.respond.editOriginal(
        progressMessage({ stage: 'generating', percent }, job.headline, context.userId),
      ),
    {
      onError: (error) =>
        bot.logger.warn({ err: error, interaction: context.interaction.id }, 'Discord progress edit failed'),
    },
  );
  const generation = job.run({
    source: 'discord',
    abortSignal: context.abortSignal,
    // Kept on the job: after a crash the bot can still deliver the result (see recovered-delivery.ts).
    target: replyTarget(context, bot.settings.applicationId, { private: ephemeral }),
    // The user's line is full, or a busy model (one GPU) keeps the job waiting: say where it stands. Told
    // before the first edit, it shapes that edit; told later, it edits the reply itself.
    onQueued: (position) => {
      progress = position > 0 ? { stage: 'queued', position } : { stage: 'generating' };
      if (shown) void reportProgress(context, bot, progress, job.headline);
    },
    onProgress: (fraction) => liveProgress.update(fraction),
  });
  // Awaited below; until then a rejection must not count as unhandled.
  generation.catch(() => undefined);
  // The job is submitted once its caller is read from the accounts' store: a turn lets that read finish
  // first (on SQLite it always has by then), and a place in the line told while the edit is on its way
  // edits again.
  await new Promise((resolve) => setImmediate(resolve));
  const firstShown = progress;
  await reportProgress(context, bot, progress, job.headline);
  shown = true;
  if (progress !== firstShown) void reportProgress(context, bot, progress, job.headline);
  let outcome: GenerationOutcome;
  try {
    outcome = await generation;
  } finally {
    // No "Generating… 40%" may land after the result (or the failure notice) replaces it.
    await liveProgress.stop();
  }
  const message = await outcomeMessage(outcome, {
    owner,
    requesterId: context.userId,
    uploadLimitBytes: context.uploadLimitBytes,
    standing: outcome.usage,
  });
  await postResult(context, bot, message, outcome.images[0]?.imageUrl ?? '');
}

/** Whether a result goes to the person alone: asked for, pressed under a private result, or their setting. */
export async function privateResult(
  context: InteractionContext,
  bot: DiscordBotServices,
  asked: boolean | undefined,
): Promise<boolean> {
  if (asked !== undefined) return asked;
  const message = 'message' in context.interaction ? context.interaction.message : undefined;
  const underPrivate = message !== undefined && ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
  return underPrivate || (await bot.chatImages.isPrivate(context.identity, undefined));
}

/** Shows where the job is; a failed progress edit is logged, never fatal (the result edit follows). */
export async function reportProgress(
  context: InteractionContext,
  bot: DiscordBotServices,
  progress: GenerationProgress,
  headline: string,
): Promise<void> {
  try {
    await context.respond.editOriginal(progressMessage(progress, headline, context.userId));
  } catch (error) {
    bot.logger.warn({ err: error, interaction: context.interaction.id }, 'Discord progress edit failed');
  }
}

/**
 * Replaces the deferred reply with the result. If Discord refuses the attachment (a limit the payload did
 * not tell us), the message goes again without it; if that fails too, the person gets the image's address.
 */
export async function postResult(
  context: InteractionContext,
  bot: DiscordBotServices,
  message: OutgoingMessage,
  imageUrl: string,
): Promise<void> {
  await sendResult(
    (outgoing) => context.respond.editOriginal(outgoing),
    context.spoiler ? asSpoiler(message) : message,
    imageUrl,
    (error) =>
      bot.logger.warn(
        { err: error, interaction: context.interaction.id },
        'posting the Discord result failed',
      ),
  );
}

/**
 * Sends a result message through `send`; if Discord refuses it with its attachment, sends it again without
 * (the image's address instead). Throws a DeliveryError when neither goes through.
 */
export async function sendResult(
  send: (message: OutgoingMessage) => Promise<void>,
  message: OutgoingMessage,
  imageUrl: string,
  onFirstFailure: (error: unknown) => void,
): Promise<void> {
  try {
    await send(message);
    return;
  } catch (error) {
    onFirstFailure(error);
    if (!message.files?.length) throw new DeliveryError(imageUrl, { cause: error });
  }
  try {
    const embeds = message.body.embeds?.map(withoutImage);
    const content = `${message.body.content ?? ''}\n${imageUrl}`.trim();
    await send({ body: { ...message.body, content, embeds, attachments: [] } });
  } catch (error) {
    throw new DeliveryError(imageUrl, { cause: error });
  }
}
