import type { JobDelivery } from './job-store.ts';

/** A job's row as it is first written: queued in its user's line, or running at once. */
export interface NewJobRow {
  id: string;
  userId: string;
  kind: 'image' | 'batch';
  source: string;
  delivery: JobDelivery;
  /** The validated request, kept so a recovered job can run again. */
  request: unknown;
  status: 'queued' | 'running';
  workerId: string;
  now: Date;
}
