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

/**
 * A job's row that goes in with its quota hold, counted there against its user's running limit (every
 * process's jobs): it goes in running below `maxRunning`, else queued, and then the hold is not taken.
 */
export interface JobRowWithHold {
  /** The row as it goes in when the user is below the limit (status running). */
  row: NewJobRow;
  /** MAX_JOBS_PER_USER. */
  maxRunning: number;
}
