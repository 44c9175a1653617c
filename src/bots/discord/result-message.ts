import {
  type APIActionRowComponent,
  type APIAllowedMentions,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
  type APIInteractionResponseCallbackData,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
} from 'discord.js';
import { type ChatAction, encodeChatAction } from '../../core/chat/action-ids.ts';
import { composeGrid } from '../../core/chat/image-grid.ts';
import { reproductionCommand } from '../../core/chat/reproduction-command.ts';
import {
  lineageText,
  type ShownImage as SharedShownImage,
  shownFromRecord,
  shownFromResult,
} from '../../core/chat/shown-image.ts';
import type { GenerationRecord } from '../../core/generation/generation-records.ts';
import type {
  BatchFailure,
  GeneratedImageResult,
  GenerationOutcome,
} from '../../core/generation/image-generator.ts';
import type { OutgoingMessage } from './interaction-responder.ts';

/** One image as a message shows it (the facts shared with Slack) and its bytes, to attach. */
export type ShownImage = SharedShownImage & { bytes: Uint8Array };

/** Who a result message is for: the quota owner its buttons name, and the standing to show. */
export interface ResultAudience {
  /** The quota subject that made the images (what the buttons' ids name). */
  owner: string;
  /** The Discord user who asked, shown (without a ping) on the message. */
  requesterId: string;
  uploadLimitBytes: number;
  /** The standing of whoever asked, after this result. */
  standing: { remaining: number; limit: number };
}

/** Where a job is: the hook for a queue position once there is a job queue. */
export type GenerationProgress =
  | { stage: 'queued'; position: number }
  | { stage: 'generating'; percent?: number | undefined };

const embedColor = 0x5865f2;
const noPings: APIAllowedMentions = { parse: [] };

function attachedFromResult(owner: string, image: GeneratedImageResult): ShownImage {
  return { ...shownFromResult(owner, image), bytes: image.bytes };
}

/** A stored image read back from storage, to post again. */
export function attachedFromRecord(record: GenerationRecord, bytes: Uint8Array): ShownImage {
  return { ...shownFromRecord(record), bytes };
}

/**
 * The message with its files as spoilers (Discord blurs attachments named `SPOILER_…`). An embed's image
 * cannot be blurred, so it goes: the attachment itself shows, hidden until clicked.
 */
export function asSpoiler(message: OutgoingMessage): OutgoingMessage {
  if (!message.files?.length) return message;
  const spoilerName = (name: string) => (name.startsWith('SPOILER_') ? name : `SPOILER_${name}`);
  return {
    ...message,
    body: {
      ...message.body,
      embeds: message.body.embeds?.map(withoutImage),
      attachments: message.body.attachments?.map((attachment) => ({
        ...attachment,
        ...(attachment.filename ? { filename: spoilerName(attachment.filename) } : {}),
      })),
    },
    files: message.files.map((file) => ({ ...file, name: spoilerName(file.name) })),
  };
}

/** The "working on it" edit of a deferred reply. */
export function progressMessage(
  progress: GenerationProgress,
  headline: string,
  requesterId: string,
): OutgoingMessage {
  const prompt = `**${clip(escapeMarkdown(headline), 300)}**`;
  const content =
    progress.stage === 'queued'
      ? `🕒 Queued (position ${progress.position}): ${prompt} for <@${requesterId}>`
      : `🎨 Generating ${prompt} for <@${requesterId}>…${progress.percent === undefined ? '' : ` ${progress.percent}%`}`;
  return { body: { content, allowed_mentions: noPings } };
}

/** The finished message for a generation: one image with its buttons, or a grid with U and V buttons. */
export async function outcomeMessage(
  outcome: GenerationOutcome,
  audience: ResultAudience,
): Promise<OutgoingMessage> {
  const images = outcome.images.map((image) => attachedFromResult(audience.owner, image));
  const note = failureNote(outcome.failures, images.length);
  const [first] = images;
  if (!first) throw new RangeError('an outcome without images is an error, not a message');
  return images.length === 1 ? imageMessage(first, audience, note) : gridMessage(images, audience, note);
}

/** One image: attached when it fits the channel's upload limit, linked otherwise. */
export function imageMessage(image: ShownImage, audience: ResultAudience, note?: string): OutgoingMessage {
  const filename = `imagine-${image.id}.${extensionOf(image.contentType)}`;
  const attach = image.bytes.byteLength <= audience.uploadLimitBytes;
  const embed: APIEmbed = {
    color: embedColor,
    description: `**Prompt used:** ${clip(escapeMarkdown(image.promptUsed), 1500)}`,
    fields: [
      { name: 'Model', value: image.model, inline: true },
      { name: 'Seed', value: image.seed === undefined ? 'random' : String(image.seed), inline: true },
      { name: 'Size', value: `${image.width}×${image.height}`, inline: true },
      { name: 'Time', value: formatSeconds(image.seconds), inline: true },
      standingField(audience.standing),
    ],
    ...(attach
      ? { image: { url: `attachment://${filename}` } }
      : {
          title: 'The full-size image is too large to attach here',
          ...(isPublicUrl(image.imageUrl) ? { url: image.imageUrl, image: { url: image.imageUrl } } : {}),
        }),
    ...(note ? { footer: { text: note } } : {}),
  };
  const target = { owner: audience.owner, generationId: image.id };
  // Two rows: what makes a new image from this one, then what tells about or removes it.
  const makeRow = [
    button({ kind: 'vary-subtle', ...target }, 'Vary (Subtle)', '🪄'),
    button({ kind: 'vary', ...target }, 'Vary (Strong)', '🎲'),
    button({ kind: 'enlarge', ...target }, 'Upscale 2×', '🔍'),
    button({ kind: 'remix', ...target }, 'Remix', '🖌️'),
    button({ kind: 'reroll', ...target }, 'Reroll', '🔄'),
  ];
  const aboutRow = [
    button({ kind: 'details', ...target }, 'Details', 'ℹ️'),
    button({ kind: 'delete', ...target }, 'Delete', '🗑️', ButtonStyle.Danger),
    linkButton(image.imageUrl),
  ];
  return {
    body: {
      content: headline(image.prompt, audience.requesterId),
      embeds: [embed],
      components: rows([makeRow, aboutRow]),
      attachments: attach ? [{ id: 0, filename }] : [],
      allowed_mentions: noPings,
    },
    ...(attach ? { files: [{ name: filename, data: image.bytes, contentType: image.contentType }] } : {}),
  };
}

/** 2–4 images as one grid, with U1–U4 (post full size, free) and V1–V4 (a variation, charged). */
export async function gridMessage(
  images: ShownImage[],
  audience: ResultAudience,
  note?: string,
): Promise<OutgoingMessage> {
  const [first] = images;
  const batchId = first?.batchId;
  if (!first || batchId === undefined) throw new RangeError('a grid needs the images of one batch');
  const grid = await composeGrid(images.map((image) => image.bytes));
  const filename = `imagine-grid-${batchId}.png`;
  const seeds = images.map((image) => (image.seed === undefined ? 'random' : String(image.seed)));
  const embed: APIEmbed = {
    color: embedColor,
    description: `**Prompt used:** ${clip(escapeMarkdown(first.promptUsed), 1500)}`,
    image: { url: `attachment://${filename}` },
    fields: [
      { name: 'Model', value: first.model, inline: true },
      { name: 'Seeds', value: seeds.join(', '), inline: true },
      { name: 'Size', value: `${first.width}×${first.height}`, inline: true },
      { name: 'Time', value: formatSeconds(Math.max(...images.map((image) => image.seconds))), inline: true },
      standingField(audience.standing),
    ],
    footer: {
      text: [note, 'U: post full size (free) · V: a variation (uses an image)'].filter(Boolean).join('\n'),
    },
  };
  const upscale = images.map((_, index) =>
    button({ kind: 'upscale', owner: audience.owner, batchId, index }, `U${index + 1}`),
  );
  const variant = images.map((_, index) =>
    button(
      { kind: 'variant', owner: audience.owner, batchId, index },
      `V${index + 1}`,
      undefined,
      ButtonStyle.Primary,
    ),
  );
  const remove = [
    button(
      { kind: 'delete', owner: audience.owner, generationId: first.id },
      'Delete',
      '🗑️',
      ButtonStyle.Danger,
    ),
  ];
  const fits = grid.byteLength <= audience.uploadLimitBytes;
  return {
    body: {
      content: `${headline(first.prompt, audience.requesterId)} · ${images.length} images`,
      embeds: [
        fits ? embed : { ...withoutImage(embed), title: 'The grid is too large to attach; use U1–U4' },
      ],
      components: rows([upscale, variant, remove]),
      attachments: fits ? [{ id: 0, filename }] : [],
      allowed_mentions: noPings,
    },
    ...(fits ? { files: [{ name: filename, data: grid, contentType: 'image/png' }] } : {}),
  };
}

/** Everything stored about an image, and how to make it again; for the requester's eyes only. */
export function detailsMessage(record: GenerationRecord): APIInteractionResponseCallbackData {
  const fields: APIEmbedField[] = [
    { name: 'Prompt', value: clip(escapeMarkdown(record.prompt), 1024) },
    { name: 'Prompt used', value: clip(escapeMarkdown(record.promptUsed), 1024) },
  ];
  if (record.negativePrompt) {
    fields.push({ name: 'Negative prompt', value: clip(escapeMarkdown(record.negativePrompt), 1024) });
  }
  fields.push(
    { name: 'Model', value: record.model, inline: true },
    { name: 'Seed', value: record.seed === undefined ? 'random' : String(record.seed), inline: true },
    { name: 'Size', value: `${record.width}×${record.height}`, inline: true },
    { name: 'Style', value: record.style ?? 'none', inline: true },
    { name: 'Quality', value: record.quality, inline: true },
    { name: 'Time', value: formatSeconds(record.generationMs / 1000), inline: true },
    { name: 'Made', value: `<t:${Math.floor(record.createdAt.getTime() / 1000)}:f>`, inline: true },
    ...lineageFields(record),
    {
      name: 'Make it again',
      value: clip(
        `\`\`\`\n${reproductionCommand(record, '/imagine prompt:').replaceAll('`', "'")}\n\`\`\``,
        1024,
      ),
    },
  );
  const link = linkButton(record.imageUrl);
  return {
    embeds: [{ color: embedColor, title: 'Image details', fields }],
    components: link ? rows([[link]]) : [],
    allowed_mentions: noPings,
  };
}

/** Where the image came from, when it was made from another (a variation, remix, upscale). */
function lineageFields(record: GenerationRecord): APIEmbedField[] {
  const lineage = lineageText(record);
  return lineage ? [{ name: 'Made from', value: lineage }] : [];
}

function failureNote(failures: readonly BatchFailure[], delivered: number): string | undefined {
  if (failures.length === 0) return undefined;
  const total = failures.length + delivered;
  return `${failures.length} of ${total} images could not be made; only the ${delivered} delivered were counted.`;
}

function standingField(standing: ResultAudience['standing']): APIEmbedField {
  return {
    name: 'Images left',
    value: `${standing.remaining} of ${standing.limit} this month`,
    inline: true,
  };
}

function headline(prompt: string, requesterId: string): string {
  return `**${clip(escapeMarkdown(prompt), 300)}** · <@${requesterId}>`;
}

function button(
  action: ChatAction,
  label: string,
  emoji?: string,
  style: ButtonStyle.Secondary | ButtonStyle.Primary | ButtonStyle.Danger = ButtonStyle.Secondary,
): APIButtonComponent | undefined {
  let customId: string;
  try {
    customId = encodeChatAction(action);
  } catch {
    // An owner id too long for Discord's 100 characters: the message goes out without that button.
    return undefined;
  }
  return {
    type: ComponentType.Button,
    style,
    label,
    custom_id: customId,
    ...(emoji ? { emoji: { name: emoji } } : {}),
  };
}

/** "Open" for images served from a public http(s) address (Discord cannot reach a loopback one). */
function linkButton(url: string): APIButtonComponent | undefined {
  return isPublicUrl(url)
    ? { type: ComponentType.Button, style: ButtonStyle.Link, label: 'Open', url }
    : undefined;
}

export function isPublicUrl(url: string): boolean {
  if (url.length > 512) return false;
  try {
    const { protocol, hostname } = new URL(url);
    return (
      (protocol === 'https:' || protocol === 'http:') &&
      !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)$/i.test(hostname) &&
      !/\.(localhost|local|invalid|internal)$/i.test(hostname)
    );
  } catch {
    return false;
  }
}

function rows(buttonRows: (APIButtonComponent | undefined)[][]): APIActionRowComponent<APIButtonComponent>[] {
  return buttonRows
    .map((row) => row.filter((item): item is APIButtonComponent => item !== undefined).slice(0, 5))
    .filter((row) => row.length > 0)
    .map((components) => ({ type: ComponentType.ActionRow, components }));
}

function extensionOf(contentType: string): string {
  return contentType === 'image/jpeg' ? 'jpg' : contentType === 'image/webp' ? 'webp' : 'png';
}

function formatSeconds(seconds: number): string {
  return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
}

/** The embed without its picture (when the picture cannot be attached). */
export function withoutImage(embed: APIEmbed): APIEmbed {
  const { image: _image, ...rest } = embed;
  return rest;
}

/** Cuts text to Discord's field limits, marking the cut. */
export function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
