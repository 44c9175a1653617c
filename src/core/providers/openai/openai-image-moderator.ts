import type OpenAI from 'openai';
import type { Logger } from 'pino';
import { ImagineError } from '../../errors/imagine-error.ts';
import type { GeneratedImage } from '../image-model.ts';

/** Checks a generated image before it is stored or posted; throws `content_policy_violation` to withhold it. */
export interface OutputModerator {
  check(image: Pick<GeneratedImage, 'bytes' | 'mediaType'>): Promise<void>;
}

const moderationModel = 'omni-moderation-latest';

/**
 * OUTPUT_MODERATION=on: every generated image goes to OpenAI's omni moderation (free of charge) as a data
 * URL before it is stored. A flagged image is withheld with `content_policy_violation` (`stage: "output"`),
 * so it is not stored, posted or charged. When the call fails, `failureMode` decides (MODERATION_ON_ERROR).
 */
export function createOpenAIImageModerator(settings: {
  client: OpenAI;
  failureMode: 'open' | 'closed';
  logger: Logger;
  timeoutMs?: number;
}): OutputModerator {
  const { client, failureMode, logger } = settings;
  const timeoutMs = settings.timeoutMs ?? 10_000;
  return {
    async check(image) {
      let categories: string[] | undefined;
      try {
        const url = `data:${image.mediaType};base64,${Buffer.from(image.bytes).toString('base64')}`;
        const response = await client.moderations.create(
          { model: moderationModel, input: [{ type: 'image_url', image_url: { url } }] },
          { timeout: timeoutMs, maxRetries: 0 },
        );
        if (!Array.isArray(response?.results) || response.results.length === 0) {
          throw new Error('the moderation response has no results');
        }
        const flagged = response.results.filter((result) => result.flagged);
        if (flagged.length > 0) {
          categories = flagged.flatMap((result) =>
            Object.entries(result.categories ?? {})
              .filter(([, isFlagged]) => isFlagged === true)
              .map(([category]) => category),
          );
        }
      } catch (error) {
        const status =
          typeof (error as { status?: unknown }).status === 'number'
            ? (error as { status: number }).status
            : undefined;
        if (failureMode === 'open') {
          logger.warn({ status }, 'OpenAI image moderation failed; allowing the image (failure mode open)');
          return;
        }
        logger.warn(
          { status },
          'OpenAI image moderation failed; withholding the image (failure mode closed)',
        );
        throw new ImagineError('provider_unavailable', undefined, {}, { cause: error });
      }
      if (categories === undefined) return;
      logger.info({ categories }, 'OpenAI moderation flagged a generated image; it was withheld');
      throw new ImagineError(
        'content_policy_violation',
        'The image that came back did not pass the content policy, so it was not kept. You were not charged.',
        { stage: 'output' },
      );
    },
  };
}
