import type { Logger } from 'pino';
import { ImagineError } from '../errors/imagine-error.ts';

/** Anything that can refuse a prompt by throwing `content_policy_violation`. */
export interface Moderator {
  check(prompt: string): void | Promise<void>;
}

/**
 * Runs moderators in order (the free local blocklist first, then a paid API), and logs each refusal with
 * the moderator's name and never the prompt: a refused prompt is exactly what should not land in logs.
 */
export function chainModerators(
  moderators: ReadonlyArray<{ name: string; moderator: Moderator }>,
  logger: Logger,
): Moderator {
  return {
    async check(prompt) {
      for (const { name, moderator } of moderators) {
        try {
          await moderator.check(prompt);
        } catch (error) {
          if (ImagineError.isInstance(error) && error.code === 'content_policy_violation') {
            logger.info({ moderator: name, promptLength: prompt.length }, 'prompt refused by moderation');
          }
          throw error;
        }
      }
    },
  };
}
