import type { LinkCodes } from '../accounts/link-codes.ts';
import type { Caller, PlanGrant, PlanSource, UserAccounts } from '../accounts/user-accounts.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import type {
  GenerationJobs,
  JoblessContext,
  RecoveredGeneration,
  UnparsedGenerationTask,
} from '../generation/generation-jobs.ts';
import type { GenerationRecord, GenerationRecords } from '../generation/generation-records.ts';
import { variationStrengths } from '../generation/generation-request.ts';
import { type AspectRatio, formatSize, sizeFromInput } from '../generation/image-dimensions.ts';
import type { GenerationOutcome, ImageGenerator } from '../generation/image-generator.ts';
import type { InputImage } from '../providers/image-model.ts';
import { periodResetsAt } from '../quota/billing-period.ts';
import type { QuotaLedger } from '../quota/quota-ledger.ts';
import type { ImageStorage } from '../storage/image-storage.ts';
import { type ChatAdmin, placeSubject } from './chat-admin.ts';
import { mergeImageOptions, type PersonalSettingsStore } from './personal-settings.ts';
import { parsePromptFlags } from './prompt-flags.ts';
import { uploadPrompt } from './upload-prompt.ts';

/** Who pressed or typed: `discord:<user id>` or `slack:<team>:<user>`. */
export type ChatIdentity = string;

/** Where it happened: a Discord server or Slack workspace may have its own monthly cap. */
export interface ChatPlace {
  /** `discord-guild:<id>`, `slack-team:<id>`; undefined in DMs. */
  scopeKey: string | undefined;
  /** The operator's per-server monthly cap, when set. */
  scopeLimit: number | undefined;
  /** NSFW_POLICY relaxes the operator's blocklist here (a Discord channel marked NSFW, or `allow`). */
  relaxBlocklist?: boolean | undefined;
  /** Plans the member's roles or user groups grant here (DISCORD_ROLE_PLANS, SLACK_USERGROUP_PLANS). */
  planGrants?: readonly PlanGrant[] | undefined;
}

/** A chat command's options: what the platform's fields gave, flags typed in the prompt fill the rest. */
export interface ChatImageOptions {
  /** The prompt as typed, Midjourney-style flags and all. */
  text: string;
  style?: string | undefined;
  aspectRatio?: AspectRatio | undefined;
  model?: string | undefined;
  seed?: number | undefined;
  negativePrompt?: string | undefined;
  enhance?: boolean | undefined;
  /** 1 for /imagine; 2–4 for the batch command. */
  count?: number | undefined;
  /** Only the person sees the result; unset: their setting. Read by the transport (see `isPrivate`). */
  private?: boolean | undefined;
  /** An image to start from (image-to-image): an attachment the person sent with the command. */
  image?: ChatUpload | undefined;
  /** With `image`: how far to move from it, 0 (keep it) to 1 (ignore it); default 0.65. */
  strength?: number | undefined;
}

/** An image a person attached or shared in chat, where the platform keeps it. */
export interface ChatUpload {
  url: string;
  /** What the platform says it is (Discord's `content_type`, Slack's `mimetype`); the bytes decide. */
  mediaType: string | undefined;
  /** Its size in bytes as the platform reports it. */
  size: number | undefined;
  /** The platform's own file hosts, allowed for this image besides the operator's INPUT_IMAGE_HOSTS. */
  hosts: readonly string[];
  /** Sent with the download to the URL's own host (Slack's bot token); never stored with the job. */
  headers?: Readonly<Record<string, string>> | undefined;
}

/** Where a chat generation comes from, its cancel signal, and who to tell when it has to wait in line. */
export interface ChatCallContext {
  source: 'discord' | 'slack';
  abortSignal: AbortSignal | undefined;
  /**
   * Called with the job's place in line (1 = next) when it cannot start at once (the user's line is full,
   * or a busy model keeps it waiting), as the line moves, and with 0 when a model's wait is over.
   */
  onQueued?: ((position: number) => void) | undefined;
  /** Called as the work gets on (0–1), when the model reports it; throttle before editing a message. */
  onProgress?: ((progress: number) => void) | undefined;
  /**
   * Where the reply goes (an interaction token, a response_url, a channel), as JSON: kept on the job so
   * that after a crash the bot can still deliver (see `onRecovered`).
   */
  target?: unknown;
}

/** A chat job a crashed process left, handed to its bot to finish. */
export interface RecoveredChatJob {
  jobId: string;
  identity: ChatIdentity;
  /** What the bot stored as `target` when the job began. */
  target: unknown;
  createdAt: Date;
  /** Generates the same request again (charged as it was meant to be) and returns the outcome. */
  rerun(): Promise<GenerationOutcome>;
  /** Ends the job without an image (the reply can no longer be delivered); its quota is already back. */
  abandon(reason: string): void;
}

/**
 * What a chat job runs: a prompt (one image or a batch), or a new image from a stored one (`request` is then
 * `{ owner, generationId, body }` with the variation or upscale body REST takes too).
 */
export type ChatJobKind = 'image' | 'batch' | 'variation' | 'upscale';

/** Vary (Subtle) and Vary (Strong): how far an image-to-image moves from the stored image. */
export type ChatVaryStrength = 'subtle' | 'strong';

/** What a chat job keeps so that it can run again after a crash (the job row's `request`). */
export interface StoredChatJob {
  chat: {
    kind: ChatJobKind;
    request: Record<string, unknown>;
    identity: ChatIdentity;
    place: ChatPlace;
    source: 'discord' | 'slack';
    target: unknown;
  };
}

/** What the bot tells `/usage`. */
export interface ChatUsage {
  plan: string;
  used: number;
  limit: number;
  remaining: number;
  resetsAt: Date;
  /** The app account this chat identity draws on, if linked. */
  linkedTo: string | undefined;
  /** Where the plan comes from: the linked account, the guest allowance, or a role or group here. */
  planSource: PlanSource;
  /** Today's standing (UTC), when the plan has a daily allowance. */
  daily?: { used: number; limit: number; remaining: number; resetsAt: Date } | undefined;
}

/** What the chat service works with; tests pass their own clock. */
export interface ChatImagesDependencies {
  generator: ImageGenerator;
  accounts: UserAccounts;
  linkCodes: LinkCodes;
  records: GenerationRecords;
  ledger: QuotaLedger;
  storage: ImageStorage;
  /** Runs each generation as a durable job and hands back the ones a crash left. */
  generationJobs: GenerationJobs;
  /** Each person's own defaults, applied before flags and options. */
  settings: PersonalSettingsStore;
  /** Admins' grants (extra images this month) and each place's counts. */
  admin: ChatAdmin;
  now?: () => Date;
}

/**
 * Everything Discord and Slack do with images, in one place: commands and buttons become generator calls
 * charged to whoever typed or pressed; re-posting a stored image is free. Transports only translate.
 */
export class ChatImages {
  readonly #dependencies: Required<ChatImagesDependencies>;

  readonly #recoverers = new Map<'discord' | 'slack', (job: RecoveredChatJob) => Promise<void>>();

  constructor(dependencies: ChatImagesDependencies) {
    this.#dependencies = { ...dependencies, now: dependencies.now ?? (() => new Date()) };
    dependencies.generationJobs.onRecoveredChat((job) => this.#recover(job));
  }

  /**
   * The caller whose quota pays: the linked app account, or the identity itself on the guest plan; a plan the
   * place grants (a role, a user group) applies when it is better.
   */
  async caller(identity: ChatIdentity, place?: ChatPlace): Promise<Caller> {
    // The accounts add this month's admin grants, as they do for REST callers.
    return this.#dependencies.accounts.chatCaller(identity, place?.planGrants ?? []);
  }

  /** `/imagine-admin`: grants, plans, refunds, this place's month, blocks; every action audited. */
  get admin(): ChatAdmin {
    return this.#dependencies.admin;
  }

  /** The person's own defaults (`/settings`, the App Home), to show and to change. */
  get settings(): PersonalSettingsStore {
    return this.#dependencies.settings;
  }

  /**
   * Whether a result goes to the person alone: asked for (`/imagine private:true`), else their setting.
   * Transports decide before acknowledging, so this is read apart from the generation.
   */
  async isPrivate(identity: ChatIdentity, asked: boolean | undefined): Promise<boolean> {
    return asked ?? (await this.#dependencies.settings.get(identity)).private ?? false;
  }

  /**
   * `/imagine` and `/imagine-batch`: the person's settings, then flags typed in the prompt, then field
   * options, each winning over the one before (`mergeImageOptions`).
   */
  async create(
    identity: ChatIdentity,
    place: ChatPlace,
    options: ChatImageOptions,
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    const flags = parsePromptFlags(options.text);
    if (!flags.prompt) {
      throw new ImagineError(
        'validation_error',
        'Write a prompt before the flags, e.g. "a red fox --ar 16:9".',
        {
          details: [{ field: 'prompt', message: 'must not be empty' }],
        },
      );
    }
    const count = options.count ?? flags.count ?? 1;
    this.checkImageOptions(options);
    // Read and checked before any job or hold: a bad attachment costs nothing. The job keeps the bytes
    // (base64), not the link, so it can run again after a crash without the platform's token.
    const image = options.image && (await this.#readUpload(options.image, context.abortSignal));
    const request = {
      prompt: flags.prompt,
      ...mergeImageOptions(await this.#dependencies.settings.get(identity), flags, options),
      seed: options.seed ?? flags.seed,
      negative_prompt: options.negativePrompt ?? flags.negativePrompt,
      ...(image ? { image: base64Of(image), strength: options.strength } : {}),
    };
    return count > 1
      ? this.#asJob('batch', { ...request, num_images: count }, identity, place, context)
      : this.#asJob('image', request, identity, place, context);
  }

  /**
   * What can be told from the platform's description of an attachment alone, before anything is
   * acknowledged: a strength without an image, a file that says it is not a PNG, JPEG or WebP, or one
   * over MAX_INPUT_IMAGE_BYTES. The bytes are checked again when they are read.
   */
  checkImageOptions(options: Pick<ChatImageOptions, 'image' | 'strength'>): void {
    const { image } = options;
    if (!image) {
      if (options.strength !== undefined) {
        throw new ImagineError('validation_error', 'Strength only works with an image to start from.', {
          details: [{ field: 'strength', message: 'needs an image' }],
        });
      }
      return;
    }
    const mediaType = image.mediaType?.split(';')[0]?.trim().toLowerCase();
    if (mediaType && !acceptedUploadTypes.has(mediaType)) {
      throw uploadRefusal(`is ${describeMediaType(mediaType)}, not a PNG, JPEG or WebP image`);
    }
    const most = this.#dependencies.generator.maxInputImageBytes;
    if (image.size !== undefined && image.size > most) {
      throw uploadRefusal(`is ${megabytes(image.size)}; the most this bot takes is ${megabytes(most)}`);
    }
  }

  /**
   * "Vary this image" on any image in a conversation: an image-to-image from it at Vary (Subtle)'s
   * strength, in its own shape, charged to whoever asked; the prompt is the first of `descriptions` (the
   * message's words, the file's title) that says something (`uploadPrompt`).
   */
  async varyUpload(
    identity: ChatIdentity,
    place: ChatPlace,
    upload: ChatUpload,
    descriptions: readonly (string | undefined)[],
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    this.checkImageOptions({ image: upload });
    const image = await this.#readUpload(upload, context.abortSignal);
    const request = {
      prompt: uploadPrompt(descriptions),
      image: base64Of(image),
      strength: variationStrengths.subtle,
      size: formatSize(sizeFromInput(image)),
    };
    return this.#asJob('image', request, identity, place, context);
  }

  /** The upload's bytes, checked as any input image; a refusal worded for a person in chat. */
  async #readUpload(upload: ChatUpload, signal: AbortSignal | undefined): Promise<InputImage> {
    try {
      return await this.#dependencies.generator.readInputImage(
        upload.url,
        { extraHosts: upload.hosts, headers: upload.headers },
        signal,
      );
    } catch (error) {
      if (!ImagineError.isInstance(error) || error.code !== 'validation_error') throw error;
      const details = error.context.details;
      const problem = Array.isArray(details) ? (details[0] as { message?: unknown } | undefined) : undefined;
      throw uploadRefusal(typeof problem?.message === 'string' ? problem.message : 'is not usable');
    }
  }

  /**
   * Reroll: the stored image's original request again with a new seed. Vary: its exact `prompt_used` (no
   * second enhancement) with a new seed. Either is charged to whoever pressed the button.
   */
  async again(
    identity: ChatIdentity,
    place: ChatPlace,
    source: GenerationRecord,
    mode: 'reroll' | 'vary',
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    const request =
      mode === 'reroll'
        ? {
            prompt: source.prompt,
            style: source.style,
            negative_prompt: undefined,
            enhance_prompt: source.promptUsed !== source.prompt,
          }
        : { prompt: source.promptUsed, negative_prompt: source.negativePrompt, enhance_prompt: false };
    const fullRequest = {
      ...request,
      size: `${source.width}x${source.height}`,
      model: source.model,
      quality: source.quality,
    };
    return this.#asJob('image', fullRequest, identity, place, context);
  }

  /**
   * Vary (Subtle/Strong) and a grid's V1–V4: image-to-image from the stored image `owner` made, charged one
   * image to whoever pressed; the result records that image as its parent (kind `variation`).
   */
  async vary(
    identity: ChatIdentity,
    place: ChatPlace,
    owner: string,
    generationId: string,
    strength: ChatVaryStrength,
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    const request = { owner, generationId, body: { strength } };
    return this.#asJob('variation', request, identity, place, context);
  }

  /**
   * Remix: the stored image as the input with an edited prompt (strength "strong"), charged to whoever sent
   * it; kind `remix`.
   */
  async remix(
    identity: ChatIdentity,
    place: ChatPlace,
    owner: string,
    generationId: string,
    prompt: string,
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    const text = prompt.trim();
    if (!text) {
      throw new ImagineError('validation_error', 'Write a prompt for the remix.', {
        details: [{ field: 'prompt', message: 'must not be empty' }],
      });
    }
    const request = { owner, generationId, body: { strength: 'strong', prompt: text } };
    return this.#asJob('variation', request, identity, place, context);
  }

  /** Upscale 2×: the stored image enlarged `factor` times, charged to whoever pressed, kind `upscale`. */
  async upscale(
    identity: ChatIdentity,
    place: ChatPlace,
    owner: string,
    generationId: string,
    factor: 2 | 4,
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    const request = { owner, generationId, body: { factor } };
    return this.#asJob('upscale', request, identity, place, context);
  }

  /**
   * Lets a bot take up its chat jobs a crashed process left behind: deliver them while its reply target is
   * still valid, or abandon them. Without a handler they end failed, their quota already released.
   */
  onRecovered(source: 'discord' | 'slack', handler: (job: RecoveredChatJob) => Promise<void>): void {
    this.#recoverers.set(source, handler);
  }

  async #recover(job: RecoveredGeneration): Promise<void> {
    const stored = (job.record.request as Partial<StoredChatJob>).chat;
    const handler = stored ? this.#recoverers.get(stored.source) : undefined;
    if (!stored || !handler) {
      job.abandon('The service restarted while this image was being made; you were not charged.');
      return;
    }
    await handler({
      jobId: job.record.id,
      identity: stored.identity,
      target: stored.target,
      createdAt: job.record.createdAt,
      rerun: async () =>
        job.rerun(
          chatTask(stored.kind, stored.request),
          await this.#context(stored.identity, stored.place, {
            source: stored.source,
            abortSignal: undefined,
          }),
        ),
      abandon: (reason) => job.abandon(reason),
    });
  }

  /**
   * Runs a chat generation as a durable job: the user's line applies (`onQueued` hears the position when it
   * has to wait), and a crash leaves a job the bot can take up again (`onRecovered`).
   */
  async #asJob(
    kind: ChatJobKind,
    request: Record<string, unknown>,
    identity: ChatIdentity,
    place: ChatPlace,
    context: ChatCallContext,
  ): Promise<GenerationOutcome> {
    return this.#dependencies.generationJobs.forChat({
      task: chatTask(kind, request),
      context: await this.#context(identity, place, context),
      stored: storedChatJob({
        kind,
        request,
        identity,
        place,
        source: context.source,
        target: context.target,
      }),
      listener: context,
    });
  }

  /** A stored generation a button names, or a `not_found` error a person can read. */
  async find(owner: string, generationId: string): Promise<GenerationRecord> {
    const record = await this.#dependencies.records.get(owner, generationId);
    if (!record) throw new ImagineError('not_found', 'That image is no longer available.');
    return record;
  }

  /** Image `index` of a stored batch. */
  async findInBatch(owner: string, batchId: string, index: number): Promise<GenerationRecord> {
    const record = (await this.#dependencies.records.listBatch(owner, batchId))[index];
    if (!record) throw new ImagineError('not_found', 'That image is no longer available.');
    return record;
  }

  /** The stored bytes of a generation (re-posting full size costs nothing). */
  read(record: GenerationRecord): Promise<Uint8Array> {
    return this.#dependencies.storage.read(record.storageKey);
  }

  /** `/usage`: the standing of the plan that applies at `place` (roles and groups count there). */
  async usage(identity: ChatIdentity, place?: ChatPlace): Promise<ChatUsage> {
    const caller = await this.caller(identity, place);
    const usage = await this.#dependencies.ledger.usage(
      caller.userId,
      caller.plan.monthlyImages,
      caller.plan.dailyImages,
    );
    return {
      plan: caller.plan.name,
      used: usage.used,
      limit: usage.limit,
      remaining: usage.remaining,
      resetsAt: periodResetsAt(this.#dependencies.now()),
      linkedTo: caller.linked ? caller.userId : undefined,
      planSource: caller.planSource ?? { kind: 'account' },
      daily: usage.daily && {
        used: usage.daily.used,
        limit: usage.daily.limit,
        remaining: usage.daily.remaining,
        resetsAt: usage.daily.resetsAt,
      },
    };
  }

  /** `/link <code>`: from now on this identity draws on that app account's quota. Returns the account. */
  async link(identity: ChatIdentity, code: string): Promise<string> {
    return this.#dependencies.linkCodes.redeem(code.trim(), identity);
  }

  /** `/unlink`: back to the guest plan. Returns whether there was a link. */
  async unlink(identity: ChatIdentity): Promise<boolean> {
    return this.#dependencies.accounts.unlink(identity);
  }

  async #context(
    identity: ChatIdentity,
    place: ChatPlace,
    context: ChatCallContext,
  ): Promise<JoblessContext> {
    return {
      caller: await this.caller(identity, place),
      scope:
        place.scopeKey !== undefined && place.scopeLimit !== undefined
          ? { key: place.scopeKey, limit: place.scopeLimit }
          : undefined,
      source: context.source,
      abortSignal: context.abortSignal,
      relaxBlocklist: place.relaxBlocklist === true,
      // The place's month (`/imagine-admin usage`) counts what the ledger charges, in its own transaction.
      tally: place.scopeKey === undefined ? undefined : placeSubject(place.scopeKey, identity),
    };
  }
}

const acceptedUploadTypes = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/webp']);

/** A refusal of an attached image, said to the person: `problem` continues "That image …". */
function uploadRefusal(problem: string): ImagineError {
  const sentence = /^(is|does|could|has)\b/.test(problem)
    ? `That image ${problem}`
    : `That image cannot be used: ${problem}`;
  return new ImagineError('validation_error', `${sentence.replace(/[.;]?$/, '')}. You were not charged.`, {
    details: [{ field: 'image', message: problem }],
  });
}

function describeMediaType(mediaType: string): string {
  if (mediaType === 'image/gif') return 'a GIF';
  if (mediaType === 'image/svg+xml') return 'an SVG';
  return `a ${mediaType} file`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

function base64Of(image: InputImage): string {
  return Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength).toString('base64');
}

/** A chat job's task; variations and upscales run through the same code as REST's. */
function chatTask(kind: ChatJobKind, request: Record<string, unknown>): UnparsedGenerationTask {
  if (kind === 'image' || kind === 'batch') return { kind, input: request };
  const { owner, generationId, body } = request as { owner: string; generationId: string; body: unknown };
  return { kind, imageId: generationId, owner, input: body };
}

/** The job row's `request` for a chat generation: everything recovery needs to run and deliver it again. */
export function storedChatJob(fields: StoredChatJob['chat']): StoredChatJob {
  return { chat: { ...fields, target: fields.target ?? null } };
}
