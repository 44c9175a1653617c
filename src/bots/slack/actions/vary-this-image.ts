import type { App, MessageShortcut } from '@slack/bolt';
import type { ChatUpload } from '../../../core/chat/chat-images.ts';
import { imageMakingChecks } from '../../../core/chat/checks/chat-checks.ts';
import type { SlackTarget } from '../recovered-jobs.ts';
import type { ResultLead } from '../slack-blocks.ts';
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

/** The message shortcut as the manifest declares it (`features.shortcuts`). */
export const varyThisImageShortcut = {
  name: 'Vary this image',
  type: 'message',
  callback_id: 'vary_this_image',
  description: 'A subtle variation of the image in this message, posted here',
} as const;

/** A file as a message carries it (`message.files[]`); only what the shortcut reads. */
interface SharedFile {
  mimetype?: string;
  size?: number;
  title?: string;
  name?: string;
  url_private?: string;
}

/**
 * Slack's file hosts for `url_private`: files.slack.com, and `files.` on the SLACK_API_URL host (GovSlack's
 * `files.slack-gov.com`).
 */
export function slackFileHosts(apiUrl: string): string[] {
  const hosts = new Set(['files.slack.com']);
  try {
    const { protocol, hostname } = new URL(apiUrl);
    if (protocol === 'https:' && hostname.split('.').length === 2) hosts.add(`files.${hostname}`);
  } catch {
    // An unparsable SLACK_API_URL is refused at start-up; files.slack.com stays.
  }
  return [...hosts];
}

/**
 * "Vary this image" on any message with an image file: the file is downloaded with the bot token
 * (`files:read`), checked as any input image, and redrawn at Vary (Subtle)'s strength, charged to whoever
 * used the shortcut; the result is posted in the conversation (in the thread, if the message is in one)
 * with the usual buttons. A message without an image the app can read gets a note only the person sees.
 */
export function registerVaryThisImage(app: App, context: SlackContext): void {
  app.shortcut<MessageShortcut>(
    { type: 'message_action', callback_id: varyThisImageShortcut.callback_id },
    async ({ ack, shortcut, respond, client }) => {
      await ack();
      const userId = shortcut.user.id;
      const teamId = shortcut.user.team_id ?? shortcut.team?.id ?? '';
      const channelId = shortcut.channel.id;
      const note = (text: string) =>
        quietly(context.logger, 'an ephemeral note after "Vary this image"', () =>
          respond({ response_type: 'ephemeral', replace_original: false, text }),
        );
      if (!(await context.processedEvents.claim(`slack:shortcut:${shortcut.action_ts}:${userId}`))) {
        context.logger.info('ignored a repeated Slack shortcut delivery');
        return;
      }
      const file = firstImage(shortcut.message.files);
      if (!teamId || !file?.url_private) {
        await note(
          '🖼️ There is no image in that message I can read. Use “Vary this image” on a message with a PNG, JPEG or WebP file.',
        );
        return;
      }
      const checked = await runSlackChecks(context, client, imageMakingChecks, { teamId, userId, channelId });
      if (!checked.ok) {
        await note(checked.message);
        return;
      }
      const threadTs =
        typeof shortcut.message.thread_ts === 'string' ? shortcut.message.thread_ts : undefined;
      const lead: ResultLead = { kind: 'vary-subtle', userId };
      const upload: ChatUpload = {
        url: file.url_private,
        mediaType: file.mimetype,
        size: file.size,
        hosts: context.files.hosts,
        headers: context.files.headers,
      };
      await context.work.run(async () => {
        try {
          // A file Slack says is a GIF, or too large, is refused before anything is downloaded.
          context.chatImages.checkImageOptions({ image: upload });
          await note(
            '🪄 Making a subtle variation of that image… it will be posted here (uses one of your images).',
          );
          const identity = slackIdentity(teamId, userId);
          const place = await slackPlaceFor(context, client, { teamId, userId });
          const outcome = await context.chatImages.varyUpload(
            identity,
            place,
            upload,
            [plainText(shortcut.message.text), file.title],
            {
              source: 'slack',
              abortSignal: context.work.signal,
              target: {
                origin: 'button',
                teamId,
                userId,
                channelId,
                responseUrl: shortcut.response_url,
                lead,
                threadTs,
              } satisfies SlackTarget,
            },
          );
          const posted = await postOutcome(context, client, {
            outcome,
            owner: (await context.chatImages.caller(identity)).userId,
            channelId,
            userId,
            lead,
            threadTs,
          });
          if (posted.inDirectMessage) {
            await note(
              'I cannot post in this conversation, so I sent the new image to you in a direct message.',
            );
          }
        } catch (error) {
          if (!(error instanceof SlackDeliveryError)) await checked.undo();
          logFailure(context, error, 'the "Vary this image" shortcut');
          await note(slackErrorText(error, context.now(), { charged: true }));
        }
      });
    },
  );
}

/** The first file Slack calls an image; the bytes are checked again when read. */
function firstImage(files: unknown): SharedFile | undefined {
  if (!Array.isArray(files)) return undefined;
  return (files as SharedFile[]).find(
    (file) => typeof file?.mimetype === 'string' && file.mimetype.startsWith('image/'),
  );
}

/** A message's text without Slack's markup: mentions dropped, links and channels by their label. */
function plainText(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  return text
    .replace(/<[@!][^>]*>/g, '')
    .replace(/<[^>|]*\|([^>]*)>/g, '$1')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
