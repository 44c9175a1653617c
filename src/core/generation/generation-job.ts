import type { KeptResult } from '../jobs/job-runner.ts';
import type { JobRowWithHold } from '../jobs/new-job-row.ts';
import type { GenerationOutcome } from './image-generator.ts';

/**
 * The durable job a generation runs as, as the generator sees it: one object instead of a bundle of hooks.
 * Its writes ride on the generation's own transactions, so the job costs statements, not commits.
 */
export interface GenerationJob {
  readonly id: string;
  /** The job's row, written in the quota hold's commit, when the row is not written yet. */
  readonly rowWithHold: JobRowWithHold | undefined;
  /**
   * Waits, after the hold found its user at MAX_JOBS_PER_USER elsewhere (the row went in queued), until
   * the job has started; rejects when `signal` aborts first or the job cannot start any more.
   */
  waitForStart(signal?: AbortSignal): Promise<void>;
  /** What the job keeps of the outcome for a caller who asks again; written in the charge's commit. */
  keep(outcome: GenerationOutcome): KeptResult | undefined;
  /** Told once the charge committed: the job has ended succeeded. */
  finishedWithCharge(): void;
  /** Work a crashed process started at the provider (one call only): followed instead of started again. */
  readonly resumeProviderRequestId: string | undefined;
  /** Told the provider's id for the work as soon as it exists (kept on the job for recovery). */
  noteProviderRequest(providerRequestId: string): void;
  /** Told how far the work has got, 0–1. */
  noteProgress(progress: number): void;
  /** Told its place in a model's line (1 = next) while the model is busy (one GPU), 0 once it starts. */
  noteQueuePosition(position: number): void;
}
