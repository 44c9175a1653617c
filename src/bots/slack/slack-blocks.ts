/** What Slack shows: Block Kit messages and views built from core results. Pure functions, no I/O. */
import type { types } from '@slack/bolt';
import { type ChatAction, encodeChatAction } from '../../core/chat/action-ids.ts';
import type { ChatUsage } from '../../core/chat/chat-images.ts';
import { reproductionCommand } from '../../core/chat/reproduction-command.ts';
import { lineageText, type ShownImage } from '../../core/chat/shown-image.ts';
import { maximumPromptLength } from '../../core/generation/generation-request.ts';
import type { GenerationWarning } from '../../core/providers/image-model.ts';

type KnownBlock = types.KnownBlock;
type Button = types.Button;

/** A message: `text` is the notification and screen-reader fallback, `blocks` what people see. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Who asked and how, shown above the facts: "Made for @ann", "Reroll by @bob", … */
export type ResultLead =
  | { kind: 'imagine' | 'reroll' | 'vary' | 'vary-subtle' | 'enlarge' | 'remix'; userId: string }
  | { kind: 'upscale' | 'variant'; userId: string; index: number };

/** Slack's mrkdwn treats &, < and > as markup; a prompt must show as typed. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts at a character limit (Slack rejects the whole message when a field is too long). */
export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${withoutHalfPair(text.slice(0, limit - 1))}…`;
}

/**
 * Escapes, then cuts: Slack counts the escaped text against a field's limit (a prompt of `<3` doubles
 * and more), so cutting first lets it through too long. The cut never splits an entity such as `&lt;`.
 */
export function escapeAndTruncate(text: string, limit: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= limit) return escaped;
  let kept = escaped.slice(0, limit - 1);
  // Every & in escaped text starts an entity (at most `&amp;`, 5 long): drop one left unfinished.
  const entityStart = kept.lastIndexOf('&');
  if (entityStart !== -1 && !kept.includes(';', entityStart)) kept = kept.slice(0, entityStart);
  return `${withoutHalfPair(kept)}…`;
}

/** Drops a high surrogate left at the end by a cut, so an emoji is not halved into invalid text. */
function withoutHalfPair(text: string): string {
  return /[\uD800-\uDBFF]$/.test(text) ? text.slice(0, -1) : text;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text });
const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });

function leadText(lead: ResultLead): string {
  const who = `<@${lead.userId}>`;
  switch (lead.kind) {
    case 'imagine':
      return `Made for ${who}`;
    case 'reroll':
      return `🎲 Reroll by ${who}`;
    case 'vary':
      return `🔀 Strong variation by ${who}`;
    case 'vary-subtle':
      return `🪄 Subtle variation by ${who}`;
    case 'enlarge':
      return `🔍 Upscale 2× by ${who}`;
    case 'remix':
      return `🖌️ Remix by ${who}`;
    case 'upscale':
      return `🔍 Image ${lead.index + 1} of the batch, posted by ${who}`;
    case 'variant':
      return `🔀 Variation of image ${lead.index + 1} by ${who}`;
  }
}

function seconds(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} s`;
}

function warningLines(warnings: readonly GenerationWarning[]): KnownBlock[] {
  if (warnings.length === 0) return [];
  const lines = warnings.map((warning) => `⚠️ ${warning.detail || warning.feature}`);
  return [{ type: 'context', elements: [mrkdwn(escapeAndTruncate(lines.join('\n'), 2900))] }];
}

function button(text: string, actionId: string, action: ChatAction, style?: 'primary'): Button {
  return {
    type: 'button',
    text: plain(text),
    action_id: actionId,
    value: encodeChatAction(action),
    ...(style ? { style } : {}),
  };
}

/**
 * A single image: prompt, facts, the prompt actually sent, and Vary (Subtle) / Vary (Strong) / Upscale 2× /
 * Remix / Reroll / Details.
 */
export function imageMessage(image: ShownImage, lead: ResultLead): SlackMessage {
  const facts = [
    leadText(lead),
    `*${escapeMrkdwn(image.model)}*`,
    image.seed === undefined ? undefined : `seed ${image.seed}`,
    `${image.width}×${image.height}`,
    seconds(image.seconds),
  ].filter((part) => part !== undefined);
  const blocks: KnownBlock[] = [
    { type: 'section', text: mrkdwn(`*${escapeAndTruncate(image.prompt, 500)}*`) },
    { type: 'context', elements: [mrkdwn(facts.join(' · '))] },
  ];
  if (image.promptUsed !== image.prompt) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn(`Prompt used: ${escapeAndTruncate(image.promptUsed, 2800)}`)],
    });
  }
  blocks.push(...warningLines(image.warnings));
  const target = { owner: image.owner, generationId: image.id };
  blocks.push({
    type: 'actions',
    block_id: 'imagine_image_actions',
    elements: [
      button('🪄 Vary (Subtle)', 'imagine_vary_subtle', { kind: 'vary-subtle', ...target }),
      button('🔀 Vary (Strong)', 'imagine_vary', { kind: 'vary', ...target }),
      button('🔍 Upscale 2×', 'imagine_enlarge', { kind: 'enlarge', ...target }),
      button('🖌️ Remix', 'imagine_remix', { kind: 'remix', ...target }),
      button('🎲 Reroll', 'imagine_reroll', { kind: 'reroll', ...target }, 'primary'),
      button('ℹ️ Details', 'imagine_details', { kind: 'details', ...target }),
    ],
  });
  return { text: `${escapeAndTruncate(image.prompt, 200)} (${escapeMrkdwn(image.model)})`, blocks };
}

/** The Remix form's callback id, and what it carries back: the Remix button's value and the channel. */
export const remixCallbackId = 'imagine_remix';
export interface RemixMetadata {
  value: string;
  channelId: string | undefined;
}

/** The Remix form (views.open): the image's prompt to edit; submitting makes the remix. */
export function remixView(prompt: string, metadata: RemixMetadata) {
  return {
    type: 'modal' as const,
    callback_id: remixCallbackId,
    private_metadata: JSON.stringify(metadata),
    title: plain('Remix this image'),
    submit: plain('Remix'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input' as const,
        block_id: 'prompt',
        label: plain('Prompt'),
        element: {
          type: 'plain_text_input' as const,
          action_id: 'prompt',
          multiline: true,
          initial_value: truncate(prompt, maximumPromptLength),
          // The core's limit, so Slack refuses a longer prompt in the form instead of after the submission.
          max_length: maximumPromptLength,
        },
      },
    ],
  };
}

/** A batch grid: prompt, facts, then U1–Un (post one full size, free) and V1–Vn (a variation, charged). */
export function batchMessage(
  images: readonly ShownImage[],
  batch: { batchId: string; owner: string; failed: number; userId: string },
): SlackMessage {
  const first = images[0];
  if (!first) throw new RangeError('a batch message needs at least one image');
  const seeds = images.map((image) => image.seed).filter((seed) => seed !== undefined);
  const seedText =
    seeds.length === 0
      ? undefined
      : seeds.length === 1
        ? `seed ${seeds[0]}`
        : `seeds ${Math.min(...seeds)}–${Math.max(...seeds)}`;
  const facts = [
    `Made for <@${batch.userId}>`,
    `*${escapeMrkdwn(first.model)}*`,
    seedText,
    `${images.length} images`,
    `${first.width}×${first.height}`,
    seconds(Math.max(...images.map((image) => image.seconds))),
  ].filter((part) => part !== undefined);
  const blocks: KnownBlock[] = [
    { type: 'section', text: mrkdwn(`*${escapeAndTruncate(first.prompt, 500)}*`) },
    { type: 'context', elements: [mrkdwn(facts.join(' · '))] },
  ];
  if (batch.failed > 0) {
    const total = images.length + batch.failed;
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `${batch.failed} of ${total} images could not be made; only the ${images.length} shown count toward your quota.`,
        ),
      ],
    });
  }
  const indexed = images.map((_, index) => index);
  const target = { owner: batch.owner, batchId: batch.batchId };
  blocks.push(
    {
      type: 'actions',
      block_id: 'imagine_batch_upscale',
      elements: indexed.map((index) =>
        button(`U${index + 1}`, `imagine_upscale_${index + 1}`, { kind: 'upscale', ...target, index }),
      ),
    },
    {
      type: 'actions',
      block_id: 'imagine_batch_variant',
      elements: indexed.map((index) =>
        button(`V${index + 1}`, `imagine_variant_${index + 1}`, { kind: 'variant', ...target, index }),
      ),
    },
    {
      type: 'context',
      elements: [
        mrkdwn('*U* posts that image full size (free) · *V* makes a variation of it (uses one image)'),
      ],
    },
  );
  return {
    text: `${escapeAndTruncate(first.prompt, 200)} (${images.length} images, ${escapeMrkdwn(first.model)})`,
    blocks,
  };
}

/** The image block used when the operator serves images publicly: Slack fetches the URL itself. */
export function imageBlock(imageUrl: string, altText: string): KnownBlock {
  return { type: 'image', image_url: imageUrl, alt_text: truncate(altText, 1900) };
}

/** Everything about one image, for the Details button (ephemeral). */
export function detailsMessage(image: ShownImage, publicImages: boolean): SlackMessage {
  const field = (label: string, value: string) => mrkdwn(`*${label}*\n${escapeAndTruncate(value, 1900)}`);
  const fields = [
    field('Model', image.model),
    field('Seed', image.seed === undefined ? 'not set by this model' : String(image.seed)),
    field('Size', `${image.width}×${image.height} (${image.quality})`),
    field('Time', seconds(image.seconds)),
    field('Style', image.style ?? 'none'),
    field('Made', `${image.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`),
  ];
  const lineage = lineageText(image);
  if (lineage) fields.push(field('Made from', lineage));
  const again = reproductionCommand(image, '/imagine ');
  const blocks: KnownBlock[] = [
    { type: 'section', text: mrkdwn(`*Prompt*\n${escapeAndTruncate(image.prompt, 2900)}`) },
  ];
  if (image.promptUsed !== image.prompt) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Prompt used*\n${escapeAndTruncate(image.promptUsed, 2900)}`),
    });
  }
  if (image.negativePrompt) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Negative prompt*\n${escapeAndTruncate(image.negativePrompt, 2900)}`),
    });
  }
  blocks.push({ type: 'section', fields });
  blocks.push(...warningLines(image.warnings));
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`Make it again: \`${escapeAndTruncate(again, 2800)}\``)],
  });
  if (publicImages) {
    blocks.push({ type: 'context', elements: [mrkdwn(`<${image.imageUrl}|Open full size>`)] });
  }
  return { text: `Details of "${escapeAndTruncate(image.prompt, 200)}"`, blocks };
}

function resetDate(date: Date): string {
  return date.toLocaleDateString('en-US', { month: 'long', day: 'numeric', timeZone: 'UTC' });
}

/** Where the plan comes from, after its name. */
function planSourceText(source: ChatUsage['planSource']): string {
  switch (source.kind) {
    case 'grant':
      return ` (from your ${source.source} in this workspace)`;
    case 'linked-account':
      return ' (from your linked app account)';
    case 'guest':
      return ' (the allowance for Slack users without a linked account)';
    case 'account':
      return '';
  }
}

/** `/imagine-usage` and the App Home's first lines. */
export function usageText(usage: ChatUsage, workspaceMonthlyImages: number | undefined): string {
  const lines = [
    `*Plan:* ${escapeMrkdwn(usage.plan)}${planSourceText(usage.planSource)}`,
    `*This month:* ${usage.used} of ${usage.limit} images used, ${usage.remaining} left. Resets on ${resetDate(usage.resetsAt)}.`,
    ...(usage.daily
      ? [
          `*Today:* ${usage.daily.used} of ${usage.daily.limit} images used, ${usage.daily.remaining} left. Resets at 00:00 UTC.`,
        ]
      : []),
    usage.linkedTo
      ? `*Account:* linked to app account \`${escapeMrkdwn(usage.linkedTo)}\`; images count toward its plan.`
      : '*Account:* not linked. Get a link code in the imagine app, then type `/imagine-link CODE` to use its plan.',
  ];
  if (workspaceMonthlyImages !== undefined) {
    lines.push(`*Workspace:* this workspace may make ${workspaceMonthlyImages} images a month in all.`);
  }
  return lines.join('\n');
}

/** What `/imagine` shows while the image is made; `queuePosition` is the place in line (1 = next). */
export function workingText(
  prompt: string,
  queuePosition: number | undefined,
  percent?: number | undefined,
): string {
  const queue =
    queuePosition !== undefined && queuePosition > 0 ? ` You are number ${queuePosition} in the queue.` : '';
  const done = percent === undefined ? '' : ` ${percent}%`;
  return `⏳ Working on *${escapeAndTruncate(prompt, 300)}*…${done}${queue}`;
}

/** What replaces "working on it" once the image is in the channel. */
export function doneText(
  remaining: number,
  limit: number,
  delivered: { inDirectMessage: boolean },
  options: { privately?: boolean } = {},
): string {
  const where = options.privately
    ? 'Sent to you privately in a direct message (your private results are on).'
    : delivered.inDirectMessage
      ? 'I cannot post in this conversation, so I sent it to you in a direct message. Invite me with `/invite @imagine` to post here.'
      : 'Posted.';
  return `✅ ${where} You have ${remaining} of ${limit} images left this month.`;
}

/** Help for a command typed without what it needs. */
export function commandHelp(command: string, usageHint: string): string {
  return `Usage: \`${command} ${usageHint}\``;
}

/** The App Home tab: plan, usage, link status, recent images and how to start. */
export function homeView(options: {
  usage: ChatUsage;
  workspaceMonthlyImages: number | undefined;
  recent: readonly ShownImage[];
  publicImages: boolean;
  /** The person's settings menus (see settings-blocks.ts), shown after their usage. */
  settings?: KnownBlock[] | undefined;
}): types.HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('imagine') },
    { type: 'section', text: mrkdwn(usageText(options.usage, options.workspaceMonthlyImages)) },
    { type: 'divider' },
    ...(options.settings ? [...options.settings, { type: 'divider' } as KnownBlock] : []),
    { type: 'header', text: plain('Recent images') },
  ];
  if (options.recent.length === 0) {
    blocks.push({
      type: 'section',
      text: mrkdwn('No images yet. Try `/imagine a lighthouse at dusk --ar 16:9` in any channel.'),
    });
  }
  for (const image of options.recent) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        `*${escapeAndTruncate(image.prompt, 300)}*\n${escapeMrkdwn(image.model)} · ${image.width}×${image.height}${image.seed === undefined ? '' : ` · seed ${image.seed}`} · ${resetDate(image.createdAt)}`,
      ),
      ...(options.publicImages
        ? { accessory: { type: 'image', image_url: image.imageUrl, alt_text: truncate(image.prompt, 1900) } }
        : {}),
    });
  }
  blocks.push(
    { type: 'divider' },
    {
      type: 'context',
      elements: [
        mrkdwn(
          '`/imagine <prompt> [--ar 16:9 --style anime --no text --seed 42 --model …]` one image · `/imagine-batch <prompt> [--n 2..4]` a grid · `/imagine-usage` your quota · `/imagine-link <code>` use your app account',
        ),
      ],
    },
  );
  return { type: 'home', blocks };
}
