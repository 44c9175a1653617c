/**
 * Chat platforms limit how often one message may be edited (Discord's and Slack's rate limits sit near one
 * edit a second per message), and a "Generating… 40%" edit that lands after the result would undo it.
 */
export const progressEditEveryMs = 1_500;

/** A throttle over progress edits of one message. */
export interface ProgressUpdates {
  /** The work has got this far (0–1): edited at once if the last edit is old enough, else a moment later. */
  update(fraction: number): void;
  /** No edit after this: a pending one is dropped, one in flight is waited for. Call before the result. */
  stop(): Promise<void>;
}

/**
 * Sends at most one progress edit every `everyMs` (the first no sooner than `everyMs` after the working
 * message went out), only when the shown percentage changes, and none once stopped. A failing edit is
 * reported to `onError` and never stops the generation.
 */
export function throttledProgress(
  send: (percent: number) => Promise<void>,
  options: { everyMs?: number; now?: () => number; onError?: (error: unknown) => void } = {},
): ProgressUpdates {
  const everyMs = options.everyMs ?? progressEditEveryMs;
  const now = options.now ?? Date.now;
  let lastSentAt = now();
  let shown = -1;
  let latest = -1;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const flush = () => {
    timer = undefined;
    if (stopped || latest === shown) return;
    shown = latest;
    lastSentAt = now();
    const percent = latest;
    inFlight = inFlight
      .then(() => (stopped ? undefined : send(percent)))
      .catch(options.onError ?? (() => {}));
  };

  return {
    update(fraction) {
      if (stopped || !Number.isFinite(fraction)) return;
      latest = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      if (latest === shown || timer) return;
      const wait = lastSentAt + everyMs - now();
      if (wait <= 0) flush();
      else {
        timer = setTimeout(flush, wait);
        timer.unref();
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
