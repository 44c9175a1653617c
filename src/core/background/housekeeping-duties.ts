import type { Logger } from 'pino';
import type { ProcessedEvents } from '../chat/processed-events.ts';
import type { IdempotencyKeys } from '../jobs/idempotency-keys.ts';
import { heartbeatEveryMs, type JobRunner } from '../jobs/job-runner.ts';
import type { AbandonedHold } from '../quota/quota-accounting.ts';
import type { QuotaLedger } from '../quota/quota-ledger.ts';
import type { BackgroundDuty } from './background-work.ts';

/**
 * No generation may run longer than this (provider deadlines are a minute or two); a hold older than it
 * belongs to a process that died, and the user must get it back.
 */
export const abandonedHoldAgeMs = 15 * 60_000;

/**
 * How often jobs of dead workers are looked for. A sibling's heartbeat goes stale 30 s after its last beat;
 * scanning every 5 s takes its jobs over within seconds of that (a scan is one range read from a watermark).
 */
export const jobRecoveryEveryMs = 5_000;
const abandonedHoldsEveryMs = 60_000;
const pruneEveryMs = 10 * 60_000;

/** The service's recurring housekeeping, one duty each, for the one background scheduler. */
export function housekeepingDuties(dependencies: {
  jobs: JobRunner;
  ledger: QuotaLedger;
  processedEvents: ProcessedEvents;
  idempotencyKeys: IdempotencyKeys;
  logger: Logger;
  now: () => Date;
  /** Told of every hold released, so what its images may have left in storage is removed. */
  onAbandonedHolds: (holds: AbandonedHold[]) => void;
}): BackgroundDuty[] {
  const { jobs, ledger, processedEvents, idempotencyKeys, logger, now } = dependencies;
  return [
    {
      name: 'job-heartbeat',
      everyMs: heartbeatEveryMs,
      atStart: false,
      run: () => jobs.heartbeat(),
    },
    {
      // At start: whatever a crash left behind. After: a sibling sharing the database that died since.
      name: 'job-recovery',
      everyMs: jobRecoveryEveryMs,
      atStart: true,
      run: async () => {
        const recovered = await jobs.recover();
        if (recovered > 0) logger.warn({ recovered }, 'recovered interrupted jobs');
      },
    },
    {
      // The last resort, for a hold no job names (or whose job row a crash never wrote).
      name: 'abandoned-holds',
      everyMs: abandonedHoldsEveryMs,
      atStart: true,
      run: async () => {
        const released = await ledger.releaseAbandoned(new Date(now().getTime() - abandonedHoldAgeMs));
        if (released.length === 0) return;
        logger.warn({ released: released.length }, 'released quota holds left by an interrupted generation');
        dependencies.onAbandonedHolds(released);
      },
    },
    {
      name: 'forget-processed-events',
      everyMs: pruneEveryMs,
      atStart: true,
      run: () => processedEvents.forgetOld(),
    },
    {
      name: 'forget-idempotency-keys',
      everyMs: pruneEveryMs,
      atStart: true,
      run: () => idempotencyKeys.forgetExpired(),
    },
  ];
}
