/** Jobs as a process killed mid-generation leaves them, for recovery tests. */
import type { JobDelivery } from '../core/jobs/job-store.ts';
import { SqliteJobRows } from '../core/jobs/sqlite/sqlite-job-rows.ts';
import type { Services } from '../services.ts';
import { sqliteOf } from './sqlite-of.ts';

/** A worker that is gone: another host, never heard from again. */
export const deadWorkerId = 'ghost-host:999999:dead';

/**
 * Writes a running job under a dead worker, `ageMs` old, and (with `hold`) the quota hold it had, as a
 * crash leaves them. Returns the job id; call `(await services.jobs.recover())` to see what recovery makes of it.
 */
export async function leaveCrashedJob(
  services: Services,
  job: {
    userId: string;
    source: string;
    delivery: JobDelivery;
    request: unknown;
    ageMs?: number;
    providerRequestId?: string;
    /** `imageIds`: what the job's images were to be recorded (and stored) under. */
    hold?: { userLimit: number; estimatedUsd?: number; imageIds?: string[] };
  },
): Promise<string> {
  const id = services.jobs.newJobId();
  // Written at once, outside the batcher, as the crashed process had committed it.
  const rows = new SqliteJobRows(sqliteOf(services));
  rows.insert({
    id,
    userId: job.userId,
    kind: 'image',
    source: job.source,
    delivery: job.delivery,
    request: job.request,
    status: 'running',
    workerId: deadWorkerId,
    now: new Date(Date.now() - (job.ageMs ?? 60_000)),
  });
  if (job.providerRequestId) rows.setProviderRequest(id, job.providerRequestId);
  if (job.hold) {
    await services.ledger.reserve({
      userId: job.userId,
      userLimit: job.hold.userLimit,
      scope: undefined,
      images: 1,
      estimatedUsd: job.hold.estimatedUsd ?? 0,
      budgetUsd: undefined,
      jobId: id,
      imageIds: job.hold.imageIds,
    });
  }
  return id;
}
