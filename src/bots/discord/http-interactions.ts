import {
  type APIInteraction,
  type APIInteractionResponse,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
} from 'discord.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { InitialResponseSender } from './interaction-responder.ts';
import type { InteractionSignatureCheck } from './verify-signature.ts';

/** Where Discord posts interactions (the developer portal's "Interactions Endpoint URL"). */
export const interactionsPath = '/discord/interactions';

/** Discord waits three seconds for the first answer; past this we answer for the handler. */
const initialResponseDeadlineMs = 2500;
/** Interaction payloads carry whole messages for buttons; far below this in practice. */
const bodyLimitBytes = 1024 * 1024;

const fallbackAnswer: APIInteractionResponse = {
  type: InteractionResponseType.ChannelMessageWithSource,
  data: {
    content: 'Something went wrong on our side. You were not charged; please try again.',
    flags: MessageFlags.Ephemeral,
  },
};

/** The router's first answer came after this request was already answered for it. */
class InitialResponseMissedError extends Error {
  constructor() {
    super('the interaction was answered before the handler responded (deadline passed or handler ended)');
    this.name = 'InitialResponseMissedError';
  }
}

/** What the HTTP transport hands each verified interaction to: the same router the gateway uses. */
export type HttpInteractionDispatcher = (
  interaction: APIInteraction,
  sendInitial: InitialResponseSender,
) => Promise<void>;

/**
 * `POST /discord/interactions`: the signature over timestamp + raw body is checked before anything else
 * (bad or stale → 401), PING is answered, and every other interaction goes to the router. The router's
 * first answer (reply, defer, autocomplete) becomes this request's response; its later edits go to the
 * webhook only once that response has been sent.
 */
export function discordInteractionRoutes(settings: {
  checkSignature: InteractionSignatureCheck;
  dispatch: HttpInteractionDispatcher;
  isStopping: () => boolean;
}): FastifyPluginAsync {
  return async (app) => {
    // Encapsulated: the raw bytes are what Discord signed, so this route alone keeps the body unparsed.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: bodyLimitBytes },
      (_request, body, done) => {
        done(null, body);
      },
    );
    const whenSent = new WeakMap<FastifyRequest, () => void>();
    app.addHook('onResponse', async (request) => {
      whenSent.get(request)?.();
    });

    app.post(interactionsPath, { schema: { hide: true } }, async (request, reply) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = request.headers['x-signature-ed25519'];
      const timestamp = request.headers['x-signature-timestamp'];
      if (
        !settings.checkSignature(
          typeof signature === 'string' ? signature : undefined,
          typeof timestamp === 'string' ? timestamp : undefined,
          rawBody,
        )
      ) {
        return reply.code(401).send({ error: 'unauthorized', message: 'Invalid request signature' });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return reply.code(400).send({ error: 'invalid_json', message: 'The request body is not valid JSON' });
      }
      // Signed is not the same as well-formed: `null`, `1` or `[]` would fail below on `.type`.
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return reply
          .code(400)
          .send({ error: 'invalid_json', message: 'The request body is not an interaction object' });
      }
      const interaction = parsed as APIInteraction | { type: InteractionType.Ping };
      if (interaction.type === InteractionType.Ping) return { type: InteractionResponseType.Pong };
      if (settings.isStopping()) {
        return reply.code(503).send({ error: 'unavailable', message: 'The bot is restarting' });
      }

      const sent = new Promise<void>((resolve) => {
        whenSent.set(request, resolve);
        // A client that hung up never gets onResponse; the handler must not wait forever.
        setTimeout(resolve, 5000).unref();
      });
      const answer = await new Promise<APIInteractionResponse>((resolve) => {
        let answered = false;
        const answer = (response: APIInteractionResponse) => {
          if (answered) return false;
          answered = true;
          clearTimeout(deadline);
          resolve(response);
          return true;
        };
        const deadline = setTimeout(() => answer(fallbackAnswer), initialResponseDeadlineMs);
        void settings
          .dispatch(interaction as APIInteraction, async (response) => {
            // Too late: the person already has the fallback, and nothing more may start for them.
            if (!answer(response)) throw new InitialResponseMissedError();
            await sent;
          })
          .finally(() => answer(fallbackAnswer));
      });
      return reply.code(200).send(answer);
    });
  };
}
