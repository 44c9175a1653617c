import { ImagineError } from '../errors/imagine-error.ts';

/** Decides whether a prompt may be generated; throws `content_policy_violation` when it may not. */
export interface PromptModerator {
  check(prompt: string): void;
}

/**
 * A moderator over the operator's blocklist (`BLOCKED_TERMS`). Terms match whole words only, in any
 * case and any script ("ass" does not block "class"); a multi-word term matches across any whitespace.
 * Terms are literal text, never regular expressions.
 */
export function createBlocklistModerator(terms: readonly string[]): PromptModerator {
  const patterns = terms
    .map((term) => term.normalize('NFKC').trim())
    .filter((term) => term.length > 0)
    .map((term) => term.split(/\s+/u).map(escapeRegExp).join('\\s+'));
  if (patterns.length === 0) return { check() {} };
  // Lookarounds instead of \b: \b only knows ASCII letters, so it would miss "café" or "Straße".
  const blocked = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${patterns.join('|')})(?![\\p{L}\\p{N}_])`, 'iu');
  return {
    check(prompt) {
      // NFKC folds look-alike forms (full-width letters, ligatures) into the plain ones the list uses.
      if (blocked.test(prompt.normalize('NFKC'))) {
        throw new ImagineError(
          'content_policy_violation',
          'The prompt contains a term this service does not allow. Rephrase it and try again.',
        );
      }
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
