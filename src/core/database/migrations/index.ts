import { initialSchema } from './0001-initial.ts';
import { processedEventsSchema } from './0002-processed-events.ts';
import { jobsSchema } from './0003-jobs.ts';
import { jobProviderRequestSchema } from './0004-job-provider-request.ts';
import { reservationImageIdsSchema } from './0005-reservation-image-ids.ts';
import { jobProgressSchema } from './0006-job-progress.ts';
import { healthProbeSchema } from './0007-health-probe.ts';
import { adminConsoleSchema } from './0008-admin-console.ts';
import { generationLineageSchema } from './0009-generation-lineage.ts';
import { reservationDaySchema } from './0010-reservation-day.ts';
import { chatCooldownsSchema } from './0011-chat-cooldowns.ts';
import { personalSettingsSchema } from './0012-personal-settings.ts';
import { chatAdminSchema } from './0013-chat-admin.ts';
import { reservationTallySchema } from './0014-reservation-tally.ts';
import { jobsRunningSchema } from './0015-jobs-running.ts';
import { jobsUnfinishedSchema } from './0016-jobs-unfinished.ts';

/** A numbered schema change; numbers only grow, and an applied migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initialSchema },
  { version: 2, name: 'processed-events', sql: processedEventsSchema },
  { version: 3, name: 'jobs', sql: jobsSchema },
  { version: 4, name: 'job-provider-request', sql: jobProviderRequestSchema },
  { version: 5, name: 'reservation-image-ids', sql: reservationImageIdsSchema },
  { version: 6, name: 'job-progress', sql: jobProgressSchema },
  { version: 7, name: 'health-probe', sql: healthProbeSchema },
  { version: 8, name: 'admin-console', sql: adminConsoleSchema },
  { version: 9, name: 'generation-lineage', sql: generationLineageSchema },
  { version: 10, name: 'reservation-day', sql: reservationDaySchema },
  { version: 11, name: 'chat-cooldowns', sql: chatCooldownsSchema },
  { version: 12, name: 'personal-settings', sql: personalSettingsSchema },
  { version: 13, name: 'chat-admin', sql: chatAdminSchema },
  { version: 14, name: 'reservation-tally', sql: reservationTallySchema },
  { version: 15, name: 'jobs-running', sql: jobsRunningSchema },
  { version: 16, name: 'jobs-unfinished', sql: jobsUnfinishedSchema },
];
