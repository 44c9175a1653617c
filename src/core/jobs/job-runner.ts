import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { newRecordId, recordIdFloor } from '../database/record-id.ts';
import { isStorageFailure } from '../errors/storage-unavailable.ts';
import type { AbandonedHold } from '../quota/quota-accounting.ts';
import type { QuotaLedger } from '../quota/quota-ledger.ts';
import type { JobDelivery, JobEnding, JobRecord, JobStore, StartAttempt } from './job-store.ts';
import type { JobRowWithHold, NewJobRow } from './new-job-row.ts';
import { isWorkerProcessGone, workerIdFor } from './worker-liveness.ts';

/** What a job is, recorded before it runs. */
export interface JobSpec {
  userId: string;
  kind: 'image' | 'batch';
  source: string;
  delivery: JobDelivery;
  /** The validated request (JSON), kept so a recovered job can run again. */
  request: unknown;
}

/** How a job ended, as its caller should see it (REST jobs keep the status and body). */
export interface JobOutcome<T> {
  value: T;
  status: 'succeeded' | 'failed' | 'cancelled';
  httpStatus?: number;
  result?: unknown;
}

/** The body a finished REST job keeps for its caller: what the synchronous call would have answered. */
export interface KeptResult {
  httpStatus: number;
  result: unknown;
}

/**
 * A job as its work sees it while it runs. Its rows ride on the work's own commits, so a job costs
 * statements, not commits: `rowWithHold` (when set) goes in with the quota hold, and the charge's commit
 * ends it succeeded, with the result its caller will read: a job is never succeeded without its result.
 */
export interface RunningJob {
  readonly id: string;
  /**
   * The job's row, for the quota hold's commit to insert (set when it is not written yet), counted there
   * against the user's running jobs in every process.
   */
  readonly rowWithHold: JobRowWithHold | undefined;
  /**
   * Waits until the job has started, after the hold's commit wrote its row queued (the user's jobs in other
   * processes fill MAX_JOBS_PER_USER). Rejects when `signal` aborts first, or when the job cannot start
   * any more (its row is no longer queued).
   */
  waitForStart(signal?: AbortSignal): Promise<void>;
  /** Its place in its user's line (1 = next) while it waits to start, or in a busy model's; 0 otherwise. */
  readonly position: number;
  /** Told once the charge committed, which ended the job succeeded with its result. */
  finishedWithCharge(): void;
  /** Keeps the provider's id for the job's work on its row, for recovery. */
  noteProviderRequest(providerRequestId: string): void;
  /** Keeps how far the work has got (0–1) on the row, for callers polling it; written at most every second. */
  noteProgress(progress: number): void;
  /** Keeps its place in a busy model's line (0 once it runs), for `position` while it waits for the GPU. */
  noteQueuePosition(position: number): void;
  /** For a recovered job: the provider work its first run started, to follow instead of starting again. */
  readonly resumeProviderRequestId: string | undefined;
}

/** The work of a job: given the running job, produce its outcome. */
export type JobWork<T> = (job: RunningJob) => Promise<JobOutcome<T>>;

/** A job handed to the runner: its id, where it stands (0 = running now) and its end. */
export interface SubmittedJob<T> {
  id: string;
  position: number;
  done: Promise<T>;
  /**
   * Settles once the job's row is committed (at once for a job whose row goes in with its quota hold);
   * rejects with 503 `storage_unavailable` when the disk refused it, and then the job does not run.
   */
  recorded: Promise<void>;
}

interface UserLane {
  running: number;
  waiting: Array<() => void>;
}

/** A job of this process that has its place in the user's lane but waits for a slot another process holds. */
interface BlockedJob {
  id: string;
  /** Told once the store was first asked to start it (or it was found behind another waiting job). */
  tried: () => void;
  started: () => void;
  failed: (error: unknown) => void;
}

/** A job whose row is no longer queued when it would start (recovery elsewhere took it, or it ended). */
class JobNotStartable extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} is no longer queued; it does not run here`);
    this.name = 'JobNotStartable';
  }
}

/** How often a worker tells the others its jobs are alive (the heartbeat duty). */
export const heartbeatEveryMs = 10_000;
/** A worker not heard from for this long is gone (a crash on another machine, or a hung process). */
export const staleAfterMs = 30_000;
/** Progress is written at most this often per job: a poller needs no finer grain, the database less. */
const progressEveryMs = 1_000;
/**
 * How often a job waiting for a slot another process holds tries to start. A job ending here wakes this
 * process's waiters at once; one ending elsewhere is noticed within this. A second is well under a
 * generation's own seconds, and one guarded UPDATE a second per waiting user costs the database no more
 * than a running job's progress writes.
 */
export const slotPollEveryMs = 1_000;

/**
 * Runs generations as durable jobs. Each user has at most `maxRunningPerUser` jobs running, counted over
 * every process and host sharing the database: the per-user lane here keeps this process's jobs in order
 * and below the limit without asking the store, and the store's guarded start (one statement, or the
 * user's advisory lock) decides whether a job may run beside the user's jobs elsewhere. The rest wait in
 * order and can say where they stand. Rows are written through the group-commit batcher, so a job costs
 * two statements, not two transactions. Jobs a dead process left behind are recovered: their quota holds
 * released at once, and jobs a caller still polls for run again; the rest end as failed with a reason.
 */
export class JobRunner {
  readonly workerId: string;
  readonly #store: JobStore;
  readonly #ledger: QuotaLedger;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #maxRunningPerUser: number;
  readonly #onAbandonedHolds: ((holds: AbandonedHold[]) => void) | undefined;
  readonly #slotPollEveryMs: number;
  readonly #lanes = new Map<string, UserLane>();
  readonly #queued = new Map<string, string>();
  /** Per user, in order: jobs with their place in the lane whose row waits queued for a slot elsewhere. */
  readonly #blocked = new Map<string, BlockedJob[]>();
  /** Users whose blocked jobs are being tried now, and those to try again once that attempt is over. */
  readonly #trying = new Set<string>();
  readonly #tryAgain = new Set<string>();
  #slotPoll: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Running jobs of this process waiting in a busy model's line, with their place in it. */
  readonly #waitingOnModel = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Jobs running or waiting in this process; `drain` waits for it to reach zero. */
  #active = 0;
  #whenIdle: (() => void) | undefined;
  readonly #recoverers = new Map<JobDelivery, (job: JobRecord) => Promise<void>>();
  /** Jobs waiting for their first try at a slot, settled by it (see `firstTryToStart`). */
  readonly #firstTries = new Map<string, Promise<void>>();
  /** Ends the database refused (a full disk), tried again before each heartbeat. */
  readonly #refusedEnds: Array<{ id: string; ending: JobEnding; rowIfMissing: NewJobRow | undefined }> = [];
  /** Where the next recovery scan starts: the first scan reads every unfinished job. */
  #recoveryFrom = '';

  constructor(dependencies: {
    store: JobStore;
    ledger: QuotaLedger;
    logger: Logger;
    now?: () => Date;
    maxRunningPerUser: number;
    /** Told of the holds a recovered job lost, so what its images may have left in storage is removed. */
    onAbandonedHolds?: (holds: AbandonedHold[]) => void;
    /** How often a job waiting for a slot another process holds tries again (`slotPollEveryMs`). */
    slotPollEveryMs?: number;
  }) {
    this.#store = dependencies.store;
    this.#ledger = dependencies.ledger;
    this.#logger = dependencies.logger;
    this.#now = dependencies.now ?? (() => new Date());
    this.#maxRunningPerUser = dependencies.maxRunningPerUser;
    this.#onAbandonedHolds = dependencies.onAbandonedHolds;
    this.#slotPollEveryMs = dependencies.slotPollEveryMs ?? slotPollEveryMs;
    // Host, pid and start time make a dead worker on this machine recognisable at once, without waiting
    // for its heartbeat to go stale.
    this.workerId = workerIdFor(process.pid, randomUUID().slice(0, 8));
  }

  /** Tells other processes this worker's jobs are alive (run every `heartbeatEveryMs` by the scheduler). */
  async heartbeat(): Promise<void> {
    // Ends the database refused earlier (a full disk) are tried again first, so none outlasts the outage.
    await this.#retryRefusedEnds();
    await this.#store.heartbeat(this.workerId, this.#now());
  }

  /** Records the job, waits for the user's turn, runs `work`, records how it ended. */
  submit<T>(spec: JobSpec, work: JobWork<T>, jobId?: string): SubmittedJob<T> {
    const id = jobId ?? newRecordId(this.#now());
    const lane = this.#lane(spec.userId);
    const startsNow = lane.running < this.#maxRunningPerUser && lane.waiting.length === 0;
    const row: NewJobRow = {
      id,
      ...spec,
      status: startsNow ? 'running' : 'queued',
      workerId: this.workerId,
      now: this.#now(),
    };
    // A caller waiting on its connection starting at once: the row goes in with the quota hold (a refusal
    // before the hold leaves no row; that caller hears it directly). Polled or queued jobs need the row now.
    const withHold = startsNow && spec.delivery !== 'rest-async';
    // Starting now here, it is counted against the user's jobs everywhere as it goes in (with the hold, or
    // alone); queued behind this process's own jobs, it goes in queued and is counted when its turn comes.
    let recorded: Promise<unknown> | undefined;
    let admit: (() => Promise<void>) | undefined;
    if (withHold) recorded = undefined;
    else if (startsNow) {
      const inserted = this.#store.insertIfBelow(row, this.#maxRunningPerUser);
      // Chained before `recorded`'s callers, so a job that went in queued is in its line when they look.
      const admitted = inserted.then((status) =>
        status === 'queued' ? this.#waitForSlot(id, spec.userId) : undefined,
      );
      admitted.catch(() => undefined);
      recorded = inserted;
      admit = () => admitted;
    } else {
      recorded = this.#store.insert(row);
      const inserted = recorded;
      admit = async () => {
        await inserted;
        await this.#waitForSlot(id, spec.userId);
      };
    }
    const rowWithHold = withHold ? { row, maxRunning: this.#maxRunningPerUser } : undefined;
    const done = this.#execute(id, spec.userId, lane, startsNow, recorded, admit, work, rowWithHold);
    const committed = recorded ? recorded.then(() => undefined) : Promise.resolve();
    // Handled here for callers that never look (a caller waiting on `done` hears the failure there).
    committed.catch(() => undefined);
    const runner = this;
    return {
      id,
      // Read when the caller looks: a job whose row went in queued (the user's slots are taken elsewhere)
      // has a place in the line by the time `recorded` settles.
      get position() {
        return runner.position(id);
      },
      done,
      recorded: committed,
    };
  }

  /**
   * Settles once a job waiting to start has had its first try at a slot (started, or found the user at
   * the limit): its `position` is then what the caller should be told. At once for any other job.
   */
  firstTryToStart(jobId: string): Promise<void> {
    return this.#firstTries.get(jobId) ?? Promise.resolve();
  }

  /** The end of a job running in this process, for a repeated request that should share it. */
  inFlight(jobId: string): Promise<unknown> | undefined {
    return this.#inFlight.get(jobId);
  }

  /** A new job id, for callers that must record it (an idempotency key) before submitting. */
  newJobId(): string {
    return newRecordId(this.#now());
  }

  /**
   * Where a job of this process stands (1 = next): in its user's line while queued, or in a busy model's
   * line while it waits for the GPU; 0 when its work is under way or the job is unknown here.
   */
  position(jobId: string): number {
    // Jobs waiting for a slot another process holds come first: they have their place in the lane.
    for (const line of this.#blocked.values()) {
      const index = line.findIndex((blocked) => blocked.id === jobId);
      if (index >= 0) return index + 1;
    }
    const userId = this.#queued.get(jobId);
    if (!userId) return this.#waitingOnModel.get(jobId) ?? 0;
    const order = [...this.#queued.entries()].filter(([, owner]) => owner === userId).map(([id]) => id);
    return (this.#blocked.get(userId)?.length ?? 0) + order.indexOf(jobId) + 1;
  }

  /**
   * How a recovered job of one delivery kind is taken up again: polled REST jobs run again, chat jobs are
   * handed to their bot (which decides whether its reply can still be delivered). Without a handler, a
   * recovered job ends failed with its quota released.
   */
  onRecover(delivery: JobDelivery, recover: (job: JobRecord) => Promise<void>): void {
    this.#recoverers.set(delivery, recover);
  }

  /** Ends a recovered job that cannot be delivered any more, with the reason for its caller. */
  abandon(jobId: string, reason: string): void {
    void this.#store
      .finish(
        jobId,
        { status: 'failed', httpStatus: 503, result: { error: 'provider_unavailable', message: reason } },
        this.#now(),
      )
      .catch((error: unknown) => this.#logger.error({ err: error, jobId }, 'closing a recovered job failed'));
  }

  /**
   * Recovers jobs whose worker is gone: each is claimed for this worker in one atomic step (two survivors
   * recovering at once never take the same job), every quota hold it had is released, jobs polled over
   * REST run again under this worker, and the rest are marked failed with the reason. Returns how many
   * were recovered.
   */
  async recover(): Promise<number> {
    const now = this.#now();
    const unfinished = await this.#store.unfinishedFrom(this.#recoveryFrom);
    const others = unfinished.filter((job) => job.workerId !== this.workerId);
    // A worker on this host whose process is gone is gone now; elsewhere, once its heartbeat is stale.
    const goneWorkerIds = [...new Set(others.map((job) => job.workerId))].filter((workerId) =>
      isWorkerProcessGone(workerId, { pid: process.pid, workerId: this.workerId }),
    );
    const staleBefore = new Date(now.getTime() - staleAfterMs);
    const claimed =
      others.length === 0
        ? []
        : await this.#store.claimAbandoned({
            workerId: this.workerId,
            now,
            staleBefore,
            goneWorkerIds,
            fromId: this.#recoveryFrom,
          });
    for (const job of claimed) {
      const lostHolds = await this.#ledger.releaseForJob(job.id);
      if (lostHolds.length > 0) this.#onAbandonedHolds?.(lostHolds);
      const released = lostHolds.length;
      const recoverer = this.#recoverers.get(job.delivery);
      if (recoverer) {
        // The claim made the row this worker's already. A running one is adopted as it is (it was counted
        // against the limit all along); a queued one stays queued and starts under the limit (`resume`).
        if (job.status !== 'queued') await this.#store.adopt(job.id, this.workerId, this.#now());
        this.#logger.warn({ jobId: job.id, released }, 'recovered an interrupted job; taking it up again');
        void recoverer(job).catch((error: unknown) => {
          this.#logger.error({ err: error, jobId: job.id }, 'a recovered job failed');
        });
      } else {
        await this.#store.finish(
          job.id,
          {
            status: 'failed',
            httpStatus: 503,
            result: {
              error: 'provider_unavailable',
              message:
                'The service restarted while this image was being made; you were not charged. Please try again.',
            },
          },
          this.#now(),
        );
        this.#logger.warn(
          { jobId: job.id, released },
          'an interrupted job could not be delivered; quota released',
        );
      }
    }
    // Next time, start at the oldest job still running elsewhere, or at what could have started since.
    const claimedIds = new Set(claimed.map((job) => job.id));
    const stillAlive = others.find((job) => !claimedIds.has(job.id))?.id;
    this.#recoveryFrom = stillAlive ?? recordIdFloor(staleBefore);
    return claimed.length;
  }

  /** Waits for running jobs, up to `deadlineMs`; what is left is picked up by recovery on the next start. */
  async drain(deadlineMs: number): Promise<void> {
    const deadline = new Promise((resolve) => setTimeout(resolve, deadlineMs).unref());
    const idle = new Promise<void>((resolve) => {
      if (this.#active === 0) resolve();
      else this.#whenIdle = resolve;
    });
    await Promise.race([idle, deadline]);
    // Closing: jobs still waiting for a slot are left queued for recovery on the next start.
    this.#stopped = true;
    this.#stopSlotPoll();
  }

  /**
   * Runs a recovered job under this runner's per-user lanes, updating its row as it goes. A job that was
   * running still counts against the limit and goes on; a queued one starts under the limit, as a new one.
   */
  resume<T>(job: JobRecord, work: JobWork<T>): Promise<T> {
    const lane = this.#lane(job.userId);
    const startsNow = lane.running < this.#maxRunningPerUser && lane.waiting.length === 0;
    const admit = job.status === 'queued' ? () => this.#waitForSlot(job.id, job.userId) : undefined;
    return this.#execute(
      job.id,
      job.userId,
      lane,
      startsNow,
      undefined,
      admit,
      work,
      undefined,
      job.providerRequestId,
    );
  }

  /**
   * Runs a job now or once its user's turn comes. Not async itself: a job that starts at once (nearly every
   * one) goes straight to `#run`, without a promise of its own wrapped around that one's.
   */
  #execute<T>(
    id: string,
    userId: string,
    lane: UserLane,
    startsNow: boolean,
    recorded: Promise<unknown> | undefined,
    admit: (() => Promise<void>) | undefined,
    work: JobWork<T>,
    rowWithHold: JobRowWithHold | undefined,
    resumeProviderRequestId?: string,
  ): Promise<T> {
    this.#active++;
    if (startsNow) {
      lane.running++;
      return this.#shared(id, this.#run(id, userId, lane, admit, work, rowWithHold, resumeProviderRequestId));
    }
    // Handled now, read when the turn comes: a failed insert must not be an unhandled rejection meanwhile.
    recorded?.catch(() => undefined);
    return this.#waitForTurn(id, userId, lane).then(() =>
      this.#shared(id, this.#run(id, userId, lane, admit, work, rowWithHold, resumeProviderRequestId)),
    );
  }

  /** Keeps a running job's end for a repeated request (a queued one is polled for instead). */
  #shared<T>(id: string, running: Promise<T>): Promise<T> {
    this.#inFlight.set(id, running);
    return running;
  }

  /** Waits in the user's line in this process; the job's start is then counted by the store (`admit`). */
  async #waitForTurn(id: string, userId: string, lane: UserLane): Promise<void> {
    this.#queued.set(id, userId);
    await new Promise<void>((resolve) => lane.waiting.push(resolve));
    this.#queued.delete(id);
  }

  /**
   * Waits until the store starts this job (its row queued) under the user's limit, counted over every
   * process: tried now, then whenever a job of this user ends here, and every `slotPollEveryMs` for jobs
   * ending elsewhere. Jobs of one user are tried in the order they came to wait.
   */
  #waitForSlot(id: string, userId: string, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const line = this.#blocked.get(userId) ?? [];
      this.#blocked.set(userId, line);
      const leave = () => {
        const index = line.indexOf(blocked);
        if (index >= 0) line.splice(index, 1);
        if (line.length === 0 && this.#blocked.get(userId) === line) this.#blocked.delete(userId);
      };
      const onAbort = () => {
        leave();
        reject(signal?.reason);
      };
      let tried: () => void = () => undefined;
      this.#firstTries.set(
        id,
        new Promise<void>((resolve) => {
          tried = () => {
            this.#firstTries.delete(id);
            resolve();
          };
        }),
      );
      const blocked: BlockedJob = {
        id,
        tried: () => tried(),
        started: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        failed: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      line.push(blocked);
      // Behind another waiting job of the user, it is queued until that one starts: no need to ask.
      if (line.length > 1) blocked.tried();
      this.#pollForSlots();
      void this.#tryBlocked(userId);
    });
  }

  /** Starts the user's blocked jobs, oldest first, while the store finds the user below the limit. */
  async #tryBlocked(userId: string): Promise<void> {
    if (this.#trying.has(userId)) {
      this.#tryAgain.add(userId);
      return;
    }
    this.#trying.add(userId);
    try {
      do {
        this.#tryAgain.delete(userId);
        const line = this.#blocked.get(userId);
        while (line && line.length > 0 && !this.#stopped) {
          const next = line[0] as BlockedJob;
          let attempt: StartAttempt;
          try {
            attempt = await this.#store.startIfBelow({
              id: next.id,
              userId,
              maxRunning: this.#maxRunningPerUser,
              workerId: this.workerId,
              now: this.#now(),
            });
          } catch (error) {
            // The database refused (a full disk, a lost connection): the next poll tries again.
            this.#logger.warn({ err: error, jobId: next.id }, 'starting a waiting job failed; trying again');
            next.tried();
            break;
          }
          next.tried();
          if (attempt === 'limit-reached') break;
          // Aborted meanwhile: it left the line, and its end (which it writes) closes the row.
          if (line[0] !== next) continue;
          line.shift();
          if (attempt === 'started') next.started();
          else next.failed(new JobNotStartable(next.id));
        }
        if (line?.length === 0 && this.#blocked.get(userId) === line) this.#blocked.delete(userId);
      } while (this.#tryAgain.has(userId) && !this.#stopped);
    } finally {
      this.#trying.delete(userId);
      if (this.#blocked.size === 0) this.#stopSlotPoll();
    }
  }

  /** Polls for slots freed elsewhere while any job here waits for one. */
  #pollForSlots(): void {
    if (this.#slotPoll || this.#stopped) return;
    this.#slotPoll = setInterval(() => {
      if (this.#blocked.size === 0) this.#stopSlotPoll();
      for (const userId of [...this.#blocked.keys()]) void this.#tryBlocked(userId);
    }, this.#slotPollEveryMs);
    this.#slotPoll.unref();
  }

  #stopSlotPoll(): void {
    if (this.#slotPoll) clearInterval(this.#slotPoll);
    this.#slotPoll = undefined;
  }

  /** Runs the work of a job whose turn it is, records how it ended, and lets the next in line start. */
  async #run<T>(
    id: string,
    userId: string,
    lane: UserLane,
    admit: (() => Promise<void>) | undefined,
    work: JobWork<T>,
    rowWithHold: JobRowWithHold | undefined,
    resumeProviderRequestId: string | undefined,
  ): Promise<T> {
    try {
      // A job that could not be written down must not run: its caller was told it failed, and work that
      // ran anyway would hold quota and store images for a job no one can see. Nor does one run before the
      // store counted it below the user's limit.
      if (admit) await admit();
      let finished = false;
      let progressWrittenAt = 0;
      const runner = this;
      // Methods, not arrow properties: tsx (which `npm start` runs under) wraps each named closure in a
      // call that sets its name, per job, on the request path.
      const job: RunningJob = {
        id,
        rowWithHold,
        resumeProviderRequestId,
        waitForStart(signal) {
          return runner.#waitForSlot(id, userId, signal);
        },
        get position() {
          return runner.position(id);
        },
        // The charge's commit ended the job, with its result, exactly when the images were paid.
        finishedWithCharge() {
          finished = true;
        },
        noteProviderRequest(providerRequestId) {
          void runner.#store
            .setProviderRequest(id, providerRequestId)
            .catch((error: unknown) =>
              runner.#logger.error({ err: error, jobId: id }, 'noting the provider request failed'),
            );
        },
        noteQueuePosition(position) {
          if (position > 0) runner.#waitingOnModel.set(id, position);
          else runner.#waitingOnModel.delete(id);
        },
        noteProgress(progress) {
          // Done is the job's end, which finish() records (and GET /jobs/:id shows as 1): writing it too
          // was a second UPDATE per job for a model that reports only its result, as a fast A1111 does.
          if (progress >= 1) return;
          const at = Date.now();
          if (at - progressWrittenAt < progressEveryMs || finished) return;
          progressWrittenAt = at;
          const clamped = Math.min(1, Math.max(0, progress));
          void runner.#store
            .setProgress(id, clamped)
            .catch((error: unknown) =>
              runner.#logger.warn({ err: error, jobId: id }, "noting a job's progress failed"),
            );
        },
      };
      const outcome = await work(job);
      if (finished && outcome.status === 'succeeded') return outcome.value;
      const ending = {
        status: outcome.status,
        ...(outcome.httpStatus === undefined ? {} : { httpStatus: outcome.httpStatus }),
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
      };
      // A refusal at the quota hold rolled the job's row back with it. When its ending is worth keeping
      // (an idempotent retry replays a 402), the row goes in now, then ends.
      await this.#end(id, ending, rowWithHold && outcome.result !== undefined ? rowWithHold.row : undefined);
      return outcome.value;
    } catch (error) {
      // A row no longer queued when it would start is not this job's to end.
      if (!(error instanceof JobNotStartable)) {
        await this.#end(id, { status: 'failed' }, undefined).catch(() => undefined);
      }
      throw error;
    } finally {
      this.#inFlight.delete(id);
      this.#waitingOnModel.delete(id);
      this.#active--;
      if (this.#active === 0) this.#whenIdle?.();
      // Its end is written: the user's jobs waiting for a slot here try first, then the next in the lane.
      if (this.#blocked.has(userId)) void this.#tryBlocked(userId);
      const next = lane.waiting.shift();
      if (next) next();
      else {
        lane.running--;
        if (lane.running === 0) this.#lanes.delete(userId);
      }
    }
  }

  /**
   * Writes a job's end. When the database refuses it now (a full disk), it is kept and tried again before
   * every heartbeat until it lands, so the row is not left running; the caller goes on meanwhile.
   */
  async #end(id: string, ending: JobEnding, rowIfMissing: NewJobRow | undefined): Promise<void> {
    try {
      await this.#writeEnd(id, ending, rowIfMissing);
    } catch (error) {
      if (!isStorageFailure(error)) throw error;
      this.#logger.warn(
        { err: error, jobId: id },
        "recording a job's end failed; retried once the database takes writes",
      );
      this.#refusedEnds.push({ id, ending, rowIfMissing });
    }
  }

  async #writeEnd(id: string, ending: JobEnding, rowIfMissing: NewJobRow | undefined): Promise<void> {
    if (await this.#store.finish(id, ending, this.#now())) return;
    if (!rowIfMissing) return;
    await this.#store.insert(rowIfMissing);
    await this.#store.finish(id, ending, this.#now());
  }

  async #retryRefusedEnds(): Promise<void> {
    const waiting = this.#refusedEnds.splice(0);
    for (const [index, end] of waiting.entries()) {
      try {
        await this.#writeEnd(end.id, end.ending, end.rowIfMissing);
      } catch (error) {
        // Still refused: keep this one and the rest for the next heartbeat.
        this.#refusedEnds.push(...waiting.slice(index));
        if (!isStorageFailure(error)) throw error;
        return;
      }
    }
  }

  /** How many job ends wait for the database to take them. */
  get endsWaitingForDatabase(): number {
    return this.#refusedEnds.length;
  }

  #lane(userId: string): UserLane {
    let lane = this.#lanes.get(userId);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      this.#lanes.set(userId, lane);
    }
    return lane;
  }
}
