/** What every Slack handler works with, and the few steps they share (who, where, how to word an error). */
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { PlanGrant } from '../../core/accounts/user-accounts.ts';
import { chatErrorMessage, slackTerms } from '../../core/chat/chat-error-message.ts';
import type { ChatIdentity, ChatImages, ChatPlace } from '../../core/chat/chat-images.ts';
import {
  type ChatCheckName,
  type ChatCheckRefusal,
  type ChatChecks,
  runChatChecks,
} from '../../core/chat/checks/chat-check.ts';
import { composeGrid } from '../../core/chat/image-grid.ts';
import { type NsfwPolicy, nsfwRules } from '../../core/chat/nsfw-policy.ts';
import type { ProcessedEvents } from '../../core/chat/processed-events.ts';
import { type ShownImage, shownFromResult } from '../../core/chat/shown-image.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import type { GenerationRecords } from '../../core/generation/generation-records.ts';
import type { GenerationOutcome } from '../../core/generation/image-generator.ts';
import type { ImageModelRegistry } from '../../core/providers/image-model-registry.ts';
import type { BackgroundWork } from './background-work.ts';
import { batchMessage, imageMessage, type ResultLead, truncate } from './slack-blocks.ts';
import { type PostedImage, type SlackDelivery, SlackDeliveryError } from './slack-delivery.ts';
import type { UsergroupPlans } from './usergroup-plans.ts';
import type { WorkspaceAdmins } from './workspace-admins.ts';

/** The handlers' dependencies: the core services they call and the app's own plumbing. */
export interface SlackContext {
  chatImages: ChatImages;
  processedEvents: ProcessedEvents;
  records: GenerationRecords;
  delivery: SlackDelivery;
  work: BackgroundWork;
  logger: Logger;
  now: () => Date;
  workspaceMonthlyImages: number | undefined;
  /** How many images `/imagine-batch` makes when `--n` is not given. */
  defaultBatchSize: number;
  /** Slack can fetch stored images itself (image blocks instead of uploads). */
  publicImages: boolean;
  /** Where a new request stands in line; undefined while there is no queue (it starts at once). */
  queuePosition: () => number | undefined;
  /** The core's named checks (channel rules, cooldown), built with this app's settings. */
  checks: ChatChecks;
  /** CHAT_COOLDOWN_SECONDS: while 0, nobody's admin status is looked up for a command. */
  cooldownSeconds: number;
  nsfwPolicy: NsfwPolicy;
  /** SLACK_USERGROUP_PLANS: the plans a user's groups grant. */
  usergroupPlans: UsergroupPlans;
  /** SLACK_ADMIN_USERS and workspace admins and owners (users.info): /imagine-admin, and no cooldown. */
  workspaceAdmins: WorkspaceAdmins;
  /** Which models this instance can call (the settings offer those the plan allows). */
  models: ImageModelRegistry;
  defaultModel: string;
  /**
   * How the app reads files people share (`url_private`, for "Vary this image"): Slack's file hosts and the
   * bot token as a Bearer header. Needs the `files:read` scope.
   */
  files: { hosts: readonly string[]; headers: Readonly<Record<string, string>> };
}

/**
 * Runs the core's checks for a person in a channel: ok with an `undo`, or the refusal to show them. Admins
 * (SLACK_ADMIN_USERS, workspace admins and owners) skip the cooldown; their status is looked up only when a
 * cooldown is on and the command takes one, so users.info stays off the path of everything else.
 */
export async function runSlackChecks(
  context: SlackContext,
  client: webApi.WebClient,
  names: readonly ChatCheckName[],
  who: { teamId: string; userId: string; channelId: string | undefined },
): Promise<{ ok: true; undo(): Promise<void> } | ChatCheckRefusal> {
  const adminMatters = context.cooldownSeconds > 0 && names.includes('cooldown');
  const checked = await runChatChecks(context.checks, names, {
    identity: slackIdentity(who.teamId, who.userId),
    isAdmin: adminMatters && (await context.workspaceAdmins.isAdmin(client, who.userId)),
    channelId: who.channelId,
  });
  if (!checked.ok) context.logger.info({ check: checked.identifier }, 'Slack request refused by a check');
  return checked;
}

/** `slack:<team>:<user>`: the chat identity whose quota (or linked account) pays. */
export function slackIdentity(teamId: string, userId: string): ChatIdentity {
  return `slack:${teamId}:${userId}`;
}

/**
 * The workspace, with the operator's per-workspace monthly cap when one is set. Slack channels carry no NSFW
 * flag, so only NSFW_POLICY=allow relaxes the blocklist here.
 */
export function slackPlace(
  teamId: string,
  context: Pick<SlackContext, 'workspaceMonthlyImages' | 'nsfwPolicy'>,
  planGrants: readonly PlanGrant[] = [],
): ChatPlace {
  return {
    scopeKey: `slack-team:${teamId}`,
    scopeLimit: context.workspaceMonthlyImages,
    relaxBlocklist: nsfwRules(context.nsfwPolicy, undefined).relaxBlocklist,
    planGrants,
  };
}

/** The workspace as `slackPlace`, with the plans the user's groups grant (read through `client`). */
export async function slackPlaceFor(
  context: SlackContext,
  client: webApi.WebClient,
  who: { teamId: string; userId: string },
): Promise<ChatPlace> {
  return slackPlace(who.teamId, context, await context.usergroupPlans.grantsFor(client, who.userId));
}

/**
 * The sentence a Slack user reads for a failure. The core's wording is shared with Discord; the few words
 * that name Discord things (its `/link` command, a "server") are put in Slack's terms here.
 */
export function slackErrorText(
  error: unknown,
  now: Date,
  options: { charged: boolean } = { charged: true },
): string {
  if (error instanceof SlackDeliveryError) {
    const cost = options.charged ? ' It still counts toward your quota; the image is saved.' : '';
    return `⚠️ Your image was made, but Slack did not accept it (\`${error.slackError}\`).${cost} Ask whoever runs imagine to check the app's scopes.`;
  }
  return `⚠️ ${chatErrorMessage(error, now, slackTerms)}`;
}

/**
 * Posts what a generation produced: one image with Reroll / Vary / Details, or a batch as one grid with
 * U1–U4 / V1–V4. The grid follows the stored batch order, which is what the U and V buttons look up.
 */
export async function postOutcome(
  context: SlackContext,
  client: webApi.WebClient,
  request: {
    outcome: GenerationOutcome;
    owner: string;
    channelId: string | undefined;
    userId: string;
    lead: ResultLead;
    /** Reply in this thread (a shortcut on a message in one). */
    threadTs?: string | undefined;
  },
): Promise<PostedImage> {
  const { outcome, owner } = request;
  const first = outcome.images[0];
  if (!first) throw new Error('a generation outcome without images');
  if (outcome.images.length === 1 || first.batchId === undefined) {
    const shown = shownFromResult(owner, first);
    return context.delivery.postImage(client, {
      channelId: request.channelId,
      userId: request.userId,
      threadTs: request.threadTs,
      bytes: first.bytes,
      filename: `imagine-${first.id}.${fileExtension(first.contentType)}`,
      title: truncate(first.prompt, 200),
      altText: first.promptUsed,
      message: imageMessage(shown, request.lead),
      publicImageUrl: context.publicImages ? first.imageUrl : undefined,
    });
  }
  const batchId = first.batchId;
  const ordered = await inBatchOrder(context, outcome, owner, batchId);
  const grid = await composeGrid(ordered.map((image) => image.bytes));
  const shown: ShownImage[] = ordered.map((image) => shownFromResult(owner, image));
  return context.delivery.postImage(client, {
    channelId: request.channelId,
    userId: request.userId,
    bytes: grid,
    filename: `imagine-batch-${batchId}.png`,
    title: truncate(first.prompt, 200),
    altText: `${ordered.length} images: ${first.promptUsed}`,
    message: batchMessage(shown, { batchId, owner, failed: outcome.failures.length, userId: request.userId }),
    publicImageUrl: undefined,
  });
}

/** The batch's images in the order `findInBatch` numbers them, so tile k is what U(k+1) posts. */
async function inBatchOrder(
  context: SlackContext,
  outcome: GenerationOutcome,
  owner: string,
  batchId: string,
): Promise<GenerationOutcome['images']> {
  const byId = new Map(outcome.images.map((image) => [image.id, image]));
  const ordered = await Promise.all(
    outcome.images.map(async (_, index) => {
      const record = await context.chatImages.findInBatch(owner, batchId, index);
      return byId.get(record.id);
    }),
  );
  return ordered.every((image) => image !== undefined) ? ordered : outcome.images;
}

/** The file extension Slack shows for a stored image's media type. */
export function fileExtension(contentType: string): string {
  return contentType === 'image/jpeg' ? 'jpg' : contentType === 'image/webp' ? 'webp' : 'png';
}

/** Runs a step whose failure should be logged, not shown (a response_url that expired, a closed view). */
export async function quietly(logger: Logger, what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (error) {
    logger.warn({ err: error }, `${what} failed`);
  }
}

/** A refusal the person can act on is routine; anything else is ours to look into. */
export function logFailure(context: SlackContext, error: unknown, what: string): void {
  if (ImagineError.isInstance(error))
    context.logger.info({ code: error.code, what }, 'Slack request refused');
  else context.logger.error({ err: error, what }, 'Slack request failed');
}
