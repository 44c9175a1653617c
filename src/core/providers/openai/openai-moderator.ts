import type OpenAI from 'openai';
import type { Logger } from 'pino';
import { ImagineError } from '../../errors/imagine-error.ts';

/** Like PromptModerator, but asynchronous: it asks OpenAI's moderation endpoint. */
export interface AsyncPromptModerator {
  check(prompt: string): Promise<void>;
}

/** What the moderator needs; `failureMode` decides what happens when OpenAI cannot be asked. */
export interface OpenAIModeratorSettings {
  client: OpenAI;
  /** `open`: allow the prompt when moderation fails; `closed`: refuse with `provider_unavailable`. */
  failureMode: 'open' | 'closed';
  logger: Logger;
  timeoutMs?: number;
}

const moderationModel = 'omni-moderation-latest';

/**
 * Checks prompts with OpenAI's moderation model (free of charge). A flagged prompt is refused with
 * `content_policy_violation`. Logs name the flagged categories but never carry the prompt itself.
 */
export function createOpenAIModerator(settings: OpenAIModeratorSettings): AsyncPromptModerator {
  const { client, failureMode, logger } = settings;
  const timeoutMs = settings.timeoutMs ?? 5_000;

  async function flaggedCategories(prompt: string): Promise<string[] | undefined> {
    const response = await client.moderations.create(
      { model: moderationModel, input: prompt },
      { timeout: timeoutMs, maxRetries: 0 },
    );
    // A compatible server that answers without results has not moderated anything.
    if (!Array.isArray(response?.results) || response.results.length === 0) {
      throw new Error('the moderation response has no results');
    }
    const flagged = response.results.filter((result) => result.flagged);
    if (flagged.length === 0) return undefined;
    const categories = new Set<string>();
    for (const result of flagged) {
      for (const [category, isFlagged] of Object.entries(result.categories ?? {})) {
        if (isFlagged === true) categories.add(category);
      }
    }
    return [...categories];
  }

  return {
    async check(prompt) {
      let categories: string[] | undefined;
      try {
        categories = await flaggedCategories(prompt);
      } catch (error) {
        const reason = describeFailure(error);
        if (failureMode === 'open') {
          logger.warn({ reason }, 'OpenAI moderation failed; allowing the prompt (failure mode open)');
          return;
        }
        logger.warn({ reason }, 'OpenAI moderation failed; refusing the prompt (failure mode closed)');
        throw new ImagineError('provider_unavailable', undefined, {}, { cause: error });
      }
      if (categories === undefined) return;
      logger.info({ categories }, 'OpenAI moderation flagged a prompt');
      throw new ImagineError(
        'content_policy_violation',
        'The prompt was flagged by the content policy. Rephrase it and try again.',
        { categories },
      );
    },
  };
}

/** The error's class and status only: an SDK message could quote the request. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = 'status' in error && typeof error.status === 'number' ? ` ${error.status}` : '';
  // The SDK's error classes do not set `name`; their class names say what happened.
  const name = error.constructor.name === 'Error' ? error.name : error.constructor.name;
  return `${name}${status}`;
}
