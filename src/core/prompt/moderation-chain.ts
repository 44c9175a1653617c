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
  const refused = (name: string, prompt: string, error: unknown): never => {
    if (ImagineError.isInstance(error) && error.code === 'content_policy_violation') {
      logger.info({ moderator: name, promptLength: prompt.length }, 'prompt refused by moderation');
    }
    throw error;
  };
  /** Runs moderators from `start`; stays synchronous until one answers with a promise (the local blocklist never does). */
  const runFrom = (start: number, prompt: string): void | Promise<void> => {
    for (let index = start; index < moderators.length; index++) {
      const { name, moderator } = moderators[index] as { name: string; moderator: Moderator };
      try {
        const answer = moderator.check(prompt);
        if (answer instanceof Promise) {
          return answer.then(
            () => runFrom(index + 1, prompt),
            (error: unknown) => refused(name, prompt, error),
          );
        }
      } catch (error) {
        refused(name, prompt, error);
      }
    }
  };
  return { check: (prompt) => runFrom(0, prompt) };
}
