import type { Logger } from 'pino';
import type { AbandonedHold, QuotaLedger } from './quota-ledger.ts';

/**
 * No generation may run longer than this (provider deadlines are a minute or two); a hold older than it
 * belongs to a process that died, and the user must get it back.
 */
export const abandonedHoldAgeMs = 15 * 60_000;
const sweepEveryMs = 60_000;

/**
 * Releases abandoned quota holds now (a crash before this start) and every minute after (a crash of
 * another process sharing the database). Returns a function that stops the sweeps.
 */
export function startAbandonedHoldSweeper(dependencies: {
  ledger: QuotaLedger;
  logger: Logger;
  now: () => Date;
  /** Told of every hold released, so what its images may have left in storage is removed. */
  onAbandonedHolds?: (holds: AbandonedHold[]) => void;
  /** Other housekeeping that belongs on the same minute timer (forgetting old chat delivery ids). */
  onSweep?: () => void;
}): () => void {
  const sweep = () => {
    try {
      const released = dependencies.ledger.releaseAbandoned(
        new Date(dependencies.now().getTime() - abandonedHoldAgeMs),
      );
      if (released.length > 0) {
        dependencies.logger.warn(
          { released: released.length },
          'released quota holds left by an interrupted generation',
        );
        dependencies.onAbandonedHolds?.(released);
      }
    } catch (error) {
      dependencies.logger.error({ err: error }, 'sweeping abandoned quota holds failed');
    }
  };
  sweep();
  const timer = setInterval(sweep, sweepEveryMs);
  // The sweeper must never be the reason the process stays alive.
  timer.unref();
  return () => clearInterval(timer);
}
