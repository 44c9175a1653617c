import {
  type APIApplicationCommandOptionChoice,
  type APIInteractionResponse,
  type APIInteractionResponseCallbackData,
  type APIModalInteractionResponseCallbackData,
  DiscordAPIError,
  InteractionResponseType,
  MessageFlags,
  type RawFile,
  type REST,
  Routes,
} from 'discord.js';
import type { Logger } from 'pino';

/** A message body with its files, for the webhook endpoints (multipart when there are files). */
export interface OutgoingMessage {
  body: APIInteractionResponseCallbackData;
  files?: RawFile[] | undefined;
}

/** How the first answer leaves: the HTTP response (HTTP interactions) or a REST callback (gateway). */
export type InitialResponseSender = (response: APIInteractionResponse) => Promise<void>;

type ResponderState =
  | 'pending'
  | 'replied'
  | 'deferred'
  | 'deferred-ephemeral'
  | 'deferred-update'
  | 'ignored';

// Unknown Webhook / Unknown Message: Discord has not finished recording the HTTP answer yet.
const notYetRecordedCodes = new Set([10015, 10008]);
const notYetRecordedRetryDelaysMs = [300, 1000];

/**
 * Answers one interaction the same way whichever transport brought it: one initial response (reply, defer,
 * autocomplete), then edits, deletions and follow-ups through the interaction's webhook, in order.
 */
export class InteractionResponder {
  readonly #rest: REST;
  readonly #applicationId: string;
  readonly #token: string;
  readonly #sendInitial: InitialResponseSender;
  readonly #transport: 'http' | 'gateway';
  readonly #logger: Logger;
  #state: ResponderState = 'pending';
  #webhookQueue: Promise<unknown> = Promise.resolve();

  constructor(settings: {
    rest: REST;
    applicationId: string;
    token: string;
    sendInitial: InitialResponseSender;
    transport: 'http' | 'gateway';
    logger: Logger;
  }) {
    this.#rest = settings.rest;
    this.#applicationId = settings.applicationId;
    this.#token = settings.token;
    this.#sendInitial = settings.sendInitial;
    this.#transport = settings.transport;
    this.#logger = settings.logger;
  }

  /** Whether the initial response has been sent. */
  get acknowledged(): boolean {
    return this.#state !== 'pending';
  }

  /** An immediate message (type 4); ephemeral ones only the caller sees. */
  async reply(data: APIInteractionResponseCallbackData, options: { ephemeral: boolean }): Promise<void> {
    await this.#initial('replied', {
      type: InteractionResponseType.ChannelMessageWithSource,
      data: options.ephemeral ? { ...data, flags: (data.flags ?? 0) | MessageFlags.Ephemeral } : data,
    });
  }

  /** "Thinking…" (type 5): the original response is edited later. */
  async defer(options: { ephemeral: boolean }): Promise<void> {
    await this.#initial(options.ephemeral ? 'deferred-ephemeral' : 'deferred', {
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      ...(options.ephemeral ? { data: { flags: MessageFlags.Ephemeral } } : {}),
    });
  }

  /** For a component: replace the message it sits on (type 7), e.g. a settings menu showing the new choice. */
  async update(data: APIInteractionResponseCallbackData): Promise<void> {
    await this.#initial('replied', { type: InteractionResponseType.UpdateMessage, data });
  }

  /** For a button: acknowledge without a new message (type 6); `@original` is then the button's message. */
  async deferUpdate(): Promise<void> {
    await this.#initial('deferred-update', { type: InteractionResponseType.DeferredMessageUpdate });
  }

  /** A form to fill in (type 9); its submission arrives as a new interaction. */
  async modal(data: APIModalInteractionResponseCallbackData): Promise<void> {
    await this.#initial('replied', { type: InteractionResponseType.Modal, data });
  }

  /** Autocomplete suggestions (type 8). */
  async autocomplete(choices: APIApplicationCommandOptionChoice[]): Promise<void> {
    await this.#initial('replied', {
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: { choices },
    });
  }

  /**
   * A second delivery of an interaction already handled. Over the gateway nothing is sent (the first
   * answer stands); an HTTP request must be answered, so it gets a short note only the caller sees.
   */
  async duplicate(): Promise<void> {
    if (this.#transport === 'gateway') {
      this.#state = 'ignored';
      return;
    }
    await this.reply(
      { content: 'That request was already received; the answer is on its way.' },
      { ephemeral: true },
    );
  }

  async editOriginal(message: OutgoingMessage): Promise<void> {
    await this.#webhook(() =>
      this.#rest.patch(Routes.webhookMessage(this.#applicationId, this.#token, '@original'), {
        auth: false,
        body: message.body,
        ...(message.files?.length ? { files: message.files } : {}),
      }),
    );
  }

  async deleteOriginal(): Promise<void> {
    await this.#webhook(() =>
      this.#rest.delete(Routes.webhookMessage(this.#applicationId, this.#token, '@original'), {
        auth: false,
      }),
    );
  }

  async followUp(message: OutgoingMessage, options: { ephemeral: boolean }): Promise<void> {
    const body = options.ephemeral
      ? { ...message.body, flags: (message.body.flags ?? 0) | MessageFlags.Ephemeral }
      : message.body;
    await this.#webhook(() =>
      this.#rest.post(Routes.webhook(this.#applicationId, this.#token), {
        auth: false,
        body,
        ...(message.files?.length ? { files: message.files } : {}),
      }),
    );
  }

  /**
   * Tells the caller what went wrong, privately where Discord allows, and never leaves a public "thinking"
   * message behind: a deferred public reply is deleted (or, failing that, edited to the text).
   */
  async reportError(text: string): Promise<void> {
    const message: OutgoingMessage = { body: { content: text, allowed_mentions: { parse: [] } } };
    switch (this.#state) {
      case 'ignored':
        return;
      case 'pending':
        await this.reply(message.body, { ephemeral: true });
        return;
      case 'deferred-ephemeral':
        await this.editOriginal(message);
        return;
      case 'deferred':
        try {
          await this.deleteOriginal();
        } catch (error) {
          this.#logger.warn(
            { err: error },
            'could not delete the deferred Discord reply; editing it instead',
          );
          await this.editOriginal({
            body: { ...message.body, embeds: [], components: [], attachments: [] },
          });
          return;
        }
        await this.followUp(message, { ephemeral: true });
        return;
      case 'replied':
      case 'deferred-update':
        await this.followUp(message, { ephemeral: true });
        return;
    }
  }

  async #initial(state: ResponderState, response: APIInteractionResponse): Promise<void> {
    if (this.#state !== 'pending') throw new Error(`interaction already answered (${this.#state})`);
    this.#state = state;
    try {
      await this.#sendInitial(response);
    } catch (error) {
      // Unanswerable now (too late, or Discord refused): nothing more can be said on this interaction.
      this.#state = 'ignored';
      throw error;
    }
  }

  /** Webhook calls run one after another, so a progress edit can never land after the final one. */
  #webhook(call: () => Promise<unknown>): Promise<unknown> {
    const next = this.#webhookQueue.then(() => this.#withRecordingRetry(call));
    this.#webhookQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * Over HTTP, Discord records our answer only after reading the response, and a fast follow-up can beat
   * it; an "unknown message" then is worth a second try. Over the gateway the callback was confirmed.
   */
  async #withRecordingRetry(call: () => Promise<unknown>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const delay = notYetRecordedRetryDelaysMs[attempt];
        const notYetRecorded =
          this.#transport === 'http' &&
          error instanceof DiscordAPIError &&
          error.status === 404 &&
          typeof error.code === 'number' &&
          notYetRecordedCodes.has(error.code);
        if (!notYetRecorded || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
