import type { Logger } from 'pino';
import { ImagineError } from '../errors/imagine-error.ts';

/** How a prompt is checked: `relaxBlocklist` skips the operator's blocklist (NSFW_POLICY in chat). */
export interface ModerationOptions {
  relaxBlocklist?: boolean | undefined;
}

/** Anything that can refuse a prompt by throwing `content_policy_violation`. */
export interface Moderator {
  check(prompt: string, options?: ModerationOptions): void | Promise<void>;
}

/**
 * Runs moderators in order (the free local blocklist first, then a paid API), and logs each refusal with
 * the moderator's name and never the prompt: a refused prompt is exactly what should not land in logs.
 */
export function chainModerators(
  /** `relaxable`: skipped when the caller relaxes the blocklist (only the operator's own list is). */
  moderators: ReadonlyArray<{ name: string; moderator: Moderator; relaxable?: boolean }>,
  logger: Logger,
): Moderator {
  const refused = (name: string, prompt: string, error: unknown): never => {
    if (ImagineError.isInstance(error) && error.code === 'content_policy_violation') {
      logger.info({ moderator: name, promptLength: prompt.length }, 'prompt refused by moderation');
    }
    throw error;
  };
  /** Runs moderators from `start`; stays synchronous until one answers with a promise (the local blocklist never does). */
  const runFrom = (start: number, prompt: string, relaxed: boolean): void | Promise<void> => {
    for (let index = start; index < moderators.length; index++) {
      const { name, moderator, relaxable } = moderators[index] as (typeof moderators)[number];
      if (relaxed && relaxable) continue;
      try {
        const answer = moderator.check(prompt);
        if (answer instanceof Promise) {
          return answer.then(
            () => runFrom(index + 1, prompt, relaxed),
            (error: unknown) => refused(name, prompt, error),
          );
        }
      } catch (error) {
        refused(name, prompt, error);
      }
    }
  };
  return { check: (prompt, options) => runFrom(0, prompt, options?.relaxBlocklist === true) };
}
