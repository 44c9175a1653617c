import type { Logger } from 'pino';

/** Logs a warning that may recur on every request at most once per interval, saying how many it held back. */
export type ThrottledWarning = (error: unknown) => void;

/**
 * The first occurrence is logged at once; later ones within `intervalMs` are only counted, and the next line
 * after the interval carries `suppressed` (how many were not logged). A dependency that is down fails every
 * request, and a line per request would bury everything else in the log.
 */
export function throttledWarning(options: {
  logger: Logger;
  message: string;
  intervalMs: number;
  now?: () => number;
}): ThrottledWarning {
  const now = options.now ?? Date.now;
  let lastLoggedAt: number | undefined;
  let suppressed = 0;
  return (error) => {
    const at = now();
    if (lastLoggedAt !== undefined && at - lastLoggedAt < options.intervalMs) {
      suppressed += 1;
      return;
    }
    options.logger.warn(
      { error: error instanceof Error ? error.message : String(error), suppressed },
      options.message,
    );
    lastLoggedAt = at;
    suppressed = 0;
  };
}
