import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { imageBlock, type SlackMessage } from './slack-blocks.ts';

type WebClient = webApi.WebClient;

/** An image to put in a conversation, with the message around it. */
export interface ImagePost {
  /** Undefined when the request came from no conversation (the App Home): the image goes to a DM. */
  channelId: string | undefined;
  /** Who asked: when the app cannot post in the channel, the image goes to them directly. */
  userId: string;
  /** The thread to reply in (the message's `thread_ts`), when the request came from one. */
  threadTs?: string | undefined;
  bytes: Uint8Array;
  filename: string;
  title: string;
  altText: string;
  message: SlackMessage;
  /** Set when Slack can fetch the stored image itself (the operator serves images publicly). */
  publicImageUrl: string | undefined;
}

/** Where the image ended up. */
export interface PostedImage {
  channelId: string;
  inDirectMessage: boolean;
}

/** Slack refused to take an image that was already made (and charged): the user is told so, not "try again". */
export class SlackDeliveryError extends Error {
  constructor(
    readonly slackError: string,
    options?: { cause?: unknown },
  ) {
    super(`Slack did not accept the image: ${slackError}`, options);
    this.name = 'SlackDeliveryError';
  }
}

/** The `error` of a Slack Web API refusal (`not_in_channel`, `invalid_blocks`, …), if it was one. */
export function slackErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('data' in error)) return undefined;
  const data = (error as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

/**
 * What Slack said about each block it refused, e.g. `[ERROR] downloading image failed
 * [json-pointer:/blocks/1/image_url]` or `[ERROR] must be less than 3001 characters
 * [json-pointer:/blocks/0/text/text]`.
 */
function blockProblems(error: unknown): string[] {
  if (typeof error !== 'object' || error === null || !('data' in error)) return [];
  const messages = (error as { data?: { response_metadata?: { messages?: unknown } } }).data
    ?.response_metadata?.messages;
  return Array.isArray(messages) ? messages.filter((message) => typeof message === 'string') : [];
}

/** `invalid_blocks` because Slack could not fetch an image URL, not because a block itself was wrong. */
function isImageFetchFailure(problems: readonly string[]): boolean {
  return problems.some((problem) => /image_url|downloading image|invalid image/i.test(problem));
}

/** Errors that mean "the app may not post here" (not a member, a DM between other people). */
const noAccessErrors = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

/**
 * Puts images in Slack. The upload follows the files upload v2 flow step by step (getUploadURLExternal,
 * POST the bytes to the URL Slack gives, completeUploadExternal sharing it to the channel with the
 * message's blocks) rather than `files.uploadV2`, so the raw PNG is sent as is and a refused share can be
 * retried in a direct message. When images are public, a message with an image block is posted instead,
 * and uploading is the fallback if Slack cannot fetch the URL.
 */
export class SlackDelivery {
  readonly #fetch: typeof fetch;
  readonly #logger: Logger;

  constructor(options: { fetch: typeof fetch; logger: Logger }) {
    this.#fetch = options.fetch;
    this.#logger = options.logger;
  }

  async postImage(client: WebClient, post: ImagePost): Promise<PostedImage> {
    try {
      if (post.channelId !== undefined) {
        try {
          await this.#postTo(client, post.channelId, post, post.threadTs);
          return { channelId: post.channelId, inDirectMessage: false };
        } catch (error) {
          if (!noAccessErrors.has(slackErrorCode(error) ?? '')) throw error;
          this.#logger.info(
            { channel: post.channelId, error: slackErrorCode(error) },
            'cannot post in this Slack conversation; sending the image as a direct message',
          );
        }
      }
      const opened = await client.conversations.open({ users: post.userId });
      const direct = opened.channel?.id;
      if (!direct) throw new SlackDeliveryError('no_direct_message');
      await this.#postTo(client, direct, post, undefined);
      return { channelId: direct, inDirectMessage: true };
    } catch (error) {
      if (error instanceof SlackDeliveryError) throw error;
      throw new SlackDeliveryError(slackErrorCode(error) ?? 'request_failed', { cause: error });
    }
  }

  async #postTo(
    client: WebClient,
    channel: string,
    post: ImagePost,
    threadTs: string | undefined,
  ): Promise<void> {
    const thread = threadTs === undefined ? {} : { thread_ts: threadTs };
    if (post.publicImageUrl) {
      const [first, ...rest] = post.message.blocks;
      const blocks = first
        ? [first, imageBlock(post.publicImageUrl, post.altText), ...rest]
        : [imageBlock(post.publicImageUrl, post.altText)];
      try {
        await client.chat.postMessage({
          channel,
          text: post.message.text,
          blocks,
          unfurl_links: false,
          ...thread,
        });
        return;
      } catch (error) {
        if (slackErrorCode(error) !== 'invalid_blocks') throw error;
        const problems = blockProblems(error);
        if (problems.length === 0) {
          // No detail to tell an unreachable image from a bad block: the upload leaves the image block out.
          this.#logger.warn(
            { channel },
            'Slack refused the message blocks without saying why; uploading instead',
          );
        } else if (isImageFetchFailure(problems)) {
          // Slack could not download the image (a firewall, an expired link): upload the bytes instead.
          this.#logger.warn(
            { channel, problems },
            'Slack could not fetch the public image URL; uploading the image instead',
          );
        } else {
          // Any other refused block would be refused with the upload too: report what Slack said.
          this.#logger.error({ channel, problems }, 'Slack refused the message blocks (invalid_blocks)');
          throw error;
        }
      }
    }
    await this.#upload(client, channel, post, thread);
  }

  async #upload(
    client: WebClient,
    channel: string,
    post: ImagePost,
    thread: { thread_ts?: string },
  ): Promise<void> {
    const target = await client.files.getUploadURLExternal({
      filename: post.filename,
      length: post.bytes.byteLength,
      alt_text: post.altText.slice(0, 1000),
    });
    if (!target.upload_url || !target.file_id) throw new SlackDeliveryError('no_upload_url');
    const response = await this.#fetch(target.upload_url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: post.bytes,
    });
    // Drained either way, so the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new SlackDeliveryError(`upload_http_${response.status}`);
    await client.files.completeUploadExternal({
      files: [{ id: target.file_id, title: post.title }],
      channel_id: channel,
      blocks: post.message.blocks,
      ...thread,
    });
  }
}
