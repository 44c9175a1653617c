/**
 * How the Slack app asks Slack about a person or a group on a command's path (users.info, user groups):
 * answers are kept for a while, a failed lookup answers a safe fallback and is kept only briefly (so a
 * missing scope does not cost every command a call), and nobody waits long for an answer.
 */

/** Answers per key, each kept `lifetimeMs`; a lookup that fails answers `fallback()` and is kept `failedLifetimeMs`. */
export function cachedLookups<T>(settings: {
  lifetimeMs: number;
  failedLifetimeMs: number;
  fallback: () => T;
  onFailure: (error: unknown, key: string) => void;
  now: () => number;
}): (key: string, lookUp: () => Promise<T>) => Promise<T> {
  const cache = new Map<string, { answer: Promise<T>; expiresAt: number }>();
  return (key, lookUp) => {
    const cached = cache.get(key);
    if (cached && cached.expiresAt > settings.now()) return cached.answer;
    // A bound on memory for a workspace of many people: starting over costs one lookup each.
    if (cache.size >= 1000) cache.clear();
    const entry: { answer: Promise<T>; expiresAt: number } = {
      answer: Promise.resolve(settings.fallback()),
      expiresAt: settings.now() + settings.lifetimeMs,
    };
    entry.answer = (async (): Promise<T> => {
      try {
        return await lookUp();
      } catch (error) {
        settings.onFailure(error, key);
        entry.expiresAt = settings.now() + settings.failedLifetimeMs;
        return settings.fallback();
      }
    })();
    cache.set(key, entry);
    return entry.answer;
  };
}

/** `work`'s answer, or `late()`'s once `ms` have passed first (a person is waiting for the acknowledgement). */
export async function answerWithin<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
