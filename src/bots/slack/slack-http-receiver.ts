import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import { checkSlackSignature } from './slack-signature.ts';

/** Where Slack posts slash commands, button presses and events in HTTP mode (the Request URL). */
export const slackEventsPath = '/slack/events';

/** Slack gives up after 3 s; answering a little before keeps a slow listener from showing a timeout. */
const ackDeadlineMs = 2_500;
/** Slack's payloads are a few kilobytes; anything this large is not from Slack. */
const slackBodyLimitBytes = 512 * 1024;

/**
 * Bolt's receiver for HTTP mode, living on our Fastify server: `POST /slack/events` checks Slack's signature
 * on the raw bytes before anything else, hands the event to Bolt (`app.processEvent`) and answers Slack
 * with whatever the listener passed to `ack()`. Listeners keep running after the answer.
 */
export class FastifySlackReceiver implements Receiver {
  #app: App | undefined;
  readonly #signingSecret: string;
  readonly #logger: Logger;
  readonly #nowSeconds: () => number;
  readonly #onClose: () => Promise<void>;

  constructor(options: {
    signingSecret: string;
    logger: Logger;
    /** Runs when the server closes, before the database does (waits for work in flight). */
    onClose: () => Promise<void>;
    now?: () => Date;
  }) {
    this.#signingSecret = options.signingSecret;
    this.#logger = options.logger;
    this.#onClose = options.onClose;
    const now = options.now ?? (() => new Date());
    this.#nowSeconds = () => Math.floor(now().getTime() / 1000);
  }

  init(app: App): void {
    this.#app = app;
  }

  /** The server listens; there is nothing to start. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** The route, encapsulated so its raw-body parsers do not touch the rest of the API. */
  readonly routes: FastifyPluginAsync = async (fastify) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser(
      ['application/x-www-form-urlencoded', 'application/json'],
      { parseAs: 'buffer', bodyLimit: slackBodyLimitBytes },
      (_request, body, done) => done(null, body),
    );
    fastify.addHook('onClose', async () => this.#onClose());
    fastify.post(slackEventsPath, { schema: { hide: true } }, (request, reply) =>
      this.#handle(request, reply),
    );
  };

  async #handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const problem = checkSlackSignature({
      signingSecret: this.#signingSecret,
      rawBody,
      signature: headerText(request.headers['x-slack-signature']),
      timestamp: headerText(request.headers['x-slack-request-timestamp']),
      nowSeconds: this.#nowSeconds(),
    });
    if (problem) {
      // Slack probes certificates with an unsigned `ssl_check=1`; it gets an empty 200 and runs nothing.
      if (isSslCheck(request, rawBody)) return reply.code(200).send();
      request.log.warn({ problem }, 'refused a Slack request that is not signed by Slack');
      // The contract's error shape, through the server's error handler like every other refusal.
      throw new ImagineError('unauthorized', 'This request is not signed by Slack');
    }

    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(rawBody, request.headers['content-type'] ?? '');
    } catch {
      throw new ImagineError('invalid_json', 'The Slack payload is not valid JSON or form data');
    }
    if (body.ssl_check === '1') return reply.code(200).send();
    if (body.type === 'url_verification') return reply.send({ challenge: body.challenge });

    const app = this.#app;
    if (!app) throw new Error('the Slack receiver was not initialised by Bolt');
    return reply.send(await this.#dispatch(app, request, body));
  }

  /** Resolves with the ack body as soon as a listener acknowledges; the listener itself runs on. */
  #dispatch(app: App, request: FastifyRequest, body: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const answer = (response: unknown) => {
        if (answered) return false;
        answered = true;
        clearTimeout(deadline);
        resolve(response ?? '');
        return true;
      };
      const deadline = setTimeout(() => {
        if (answer(''))
          this.#logger.warn({ type: body.type }, 'a Slack listener did not acknowledge in time');
      }, ackDeadlineMs);
      const retryNum = Number(headerText(request.headers['x-slack-retry-num']));
      const retryReason = headerText(request.headers['x-slack-retry-reason']);
      const event: ReceiverEvent = {
        body,
        ack: async (response?: unknown) => {
          if (!answer(response)) this.#logger.debug('ack() after Slack was already answered; ignored');
        },
        ...(Number.isInteger(retryNum) ? { retryNum } : {}),
        ...(retryReason ? { retryReason } : {}),
      };
      app.processEvent(event).then(
        // Nothing listens for this (an event type or command we do not handle): an empty 200 stops retries.
        () => answer(''),
        (error: unknown) => {
          this.#logger.error({ err: error }, 'a Slack event failed before it was acknowledged');
          if (!answered) {
            answered = true;
            clearTimeout(deadline);
            reject(error);
          }
        },
      );
    });
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Slash commands arrive as a form; button presses as a form whose `payload` is JSON; events as JSON. */
export function parseSlackBody(rawBody: Buffer, contentType: string): Record<string, unknown> {
  const text = rawBody.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(text));
    return typeof form.payload === 'string' ? jsonObject(form.payload) : form;
  }
  return jsonObject(text);
}

function jsonObject(text: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError('a Slack body is a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function isSslCheck(request: FastifyRequest, rawBody: Buffer): boolean {
  const contentType = request.headers['content-type'] ?? '';
  return (
    contentType.startsWith('application/x-www-form-urlencoded') &&
    new URLSearchParams(rawBody.toString('utf8')).get('ssl_check') === '1'
  );
}
