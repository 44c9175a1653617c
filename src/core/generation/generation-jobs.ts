import type { Caller, UserAccounts } from '../accounts/user-accounts.ts';
import { ImagineError, validationError } from '../errors/imagine-error.ts';
import { type IdempotencyKeys, isReplayableStatus, requestHash } from '../jobs/idempotency-keys.ts';
import type { JobOutcome, JobRunner, JobSpec, JobWork, KeptResult, RunningJob } from '../jobs/job-runner.ts';
import type { JobRecord, JobStatus, JobStore } from '../jobs/job-store.ts';
import type { NewJobRow } from '../jobs/new-job-row.ts';
import type { DiskHealth } from '../storage/disk-health.ts';
import type { GenerationJob } from './generation-job.ts';
import {
  type BatchRequest,
  batchRequestSchema,
  type ImageRequest,
  imageRequestSchema,
  parseRequest,
  type UpscaleRequest,
  upscaleRequestSchema,
  type VariationRequest,
  variationRequestSchema,
} from './generation-request.ts';
import type { GenerationContext, GenerationOutcome, ImageGenerator } from './image-generator.ts';

/**
 * What a generation job makes, its body parsed (REST's routes validate it): one image or a batch from a
 * prompt, or a variation or upscale of a stored image (`owner`'s; the caller's when unset).
 */
export type GenerationTask =
  | { kind: 'image'; body: ImageRequest }
  | { kind: 'batch'; body: BatchRequest }
  | { kind: 'variation'; imageId: string; body: VariationRequest; owner?: string | undefined }
  | { kind: 'upscale'; imageId: string; body: UpscaleRequest; owner?: string | undefined };

/** A task whose body is parsed when its job runs (a chat command's), so a bad one ends that job failed. */
export type UnparsedGenerationTask =
  | { kind: 'image' | 'batch'; input: unknown }
  | { kind: 'variation' | 'upscale'; imageId: string; owner: string; input: unknown };

/** Who generates and through which door: a generation's context before it has a job. */
export type JoblessContext = Omit<GenerationContext, 'job'>;

/** Told where a job stands while it waits or works (a chat transport edits its message). */
export interface JobListener {
  /**
   * The job's place in line (1 = next) when it cannot start at once (the user's line is full, or a busy
   * model keeps it waiting), as the line moves, and 0 when a model's wait is over.
   */
  onQueued?: ((position: number) => void) | undefined;
  /** How far the work has got (0–1), when the model reports it. */
  onProgress?: ((progress: number) => void) | undefined;
}

/** A chat generation to run as a job. */
export interface ChatGenerationOrder {
  task: UnparsedGenerationTask;
  context: JoblessContext;
  /** The job row's `request`: everything the chat's recovery needs to run and deliver it again. */
  stored: unknown;
  listener: JobListener;
}

/** A chat job a crashed process left, as the chat takes it up: run it again, or end it undelivered. */
export interface RecoveredGeneration {
  readonly record: JobRecord;
  /** Runs it again in this process (charged as it was meant to be) and resolves with the outcome. */
  rerun(task: UnparsedGenerationTask, context: JoblessContext): Promise<GenerationOutcome>;
  /** Ends it without an image, with the reason for its caller; its quota is already back. */
  abandon(reason: string): void;
}

/** A REST answer: its HTTP status and the contract's body. */
export interface RestReply {
  httpStatus: number;
  body: unknown;
}

/** How REST words a generation's end; kept with a job so a poll or a retry reads the same words. */
export interface RestAnswers {
  /** The success body for a task's outcome. */
  succeeded(task: GenerationTask, outcome: GenerationOutcome): RestReply;
  /** The contract's body for an error. */
  failed(error: ImagineError): RestReply;
}

/** The parts of a logger a REST job writes to (the request's, so lines carry its id). */
export interface JobLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A REST generation to run as a job: waiting or `respond-async`, with or without an `Idempotency-Key`. */
export interface RestGenerationOrder {
  task: GenerationTask;
  caller: Caller;
  /** `Prefer: respond-async`: answer at once with the job to poll. */
  respondAsync: boolean;
  idempotencyKey: string | undefined;
  /** Fires when a waiting caller hangs up; asked for only when the caller waits. */
  hangUp: () => AbortSignal;
  log: JobLog;
}

/** How a REST generation is answered: it ended (its reply), or it is a job to poll. */
export type RestJobAnswer =
  | {
      kind: 'ended';
      reply: RestReply;
      /** The error it ended in, for the error handler to answer (undefined for a stored reply). */
      error: ImagineError | undefined;
      /** The answer of an earlier request with the same `Idempotency-Key`. */
      replayed: boolean;
    }
  | { kind: 'accepted'; jobId: string; status: JobStatus; position: number; replayed: boolean };

/** REST generations as jobs, answered in REST's words. */
export interface RestGenerationJobs {
  run(order: RestGenerationOrder): Promise<RestJobAnswer>;
}

/** What a REST job hands back to the request that waits for it. */
interface RestEnd {
  reply: RestReply;
  error: ImagineError | undefined;
}

/** How a job's end reaches its caller: its value, what it keeps for a caller who asks again, its errors. */
interface JobEnd<T> {
  succeeded(outcome: GenerationOutcome): T;
  /** Written in the charge's commit; undefined: nothing is kept. */
  keep: ((outcome: GenerationOutcome) => KeptResult) | undefined;
  /** A generation's error as the job's ending; undefined: the error reaches the caller as thrown. */
  failed: ((error: ImagineError) => JobOutcome<T>) | undefined;
}

const chatEnd: JobEnd<GenerationOutcome> = {
  succeeded: (outcome) => outcome,
  keep: undefined,
  failed: undefined,
};

/** How long a repeated `Idempotency-Key` waits on the first request's job before answering 202. */
const replayWaitMs = 60_000;
const replayPollMs = 200;

/**
 * The one owner of "a generation as a durable job", for every delivery: REST callers who wait ('rest')
 * or poll ('rest-async'), with or without an `Idempotency-Key`, and chat commands ('chat'). It submits the
 * job, hands the generator one `job` object, resumes the job in this process after a crash (polled REST
 * jobs run again; chat jobs go to their bot), and replays a repeated key. Transports hand it a task and a
 * delivery and word the answer themselves.
 */
export class GenerationJobs {
  readonly #generator: ImageGenerator;
  readonly #jobs: JobRunner;
  readonly #jobStore: JobStore;
  readonly #idempotencyKeys: IdempotencyKeys;
  readonly #accounts: UserAccounts;
  readonly #disk: DiskHealth;
  readonly #now: () => Date;

  constructor(dependencies: {
    generator: ImageGenerator;
    jobs: JobRunner;
    jobStore: JobStore;
    idempotencyKeys: IdempotencyKeys;
    accounts: UserAccounts;
    disk: DiskHealth;
    now?: () => Date;
  }) {
    this.#generator = dependencies.generator;
    this.#jobs = dependencies.jobs;
    this.#jobStore = dependencies.jobStore;
    this.#idempotencyKeys = dependencies.idempotencyKeys;
    this.#accounts = dependencies.accounts;
    this.#disk = dependencies.disk;
    this.#now = dependencies.now ?? (() => new Date());
  }

  /**
   * Runs a chat generation as a job and resolves with its outcome: the user's line applies (the listener
   * hears the position when it has to wait), and a crash leaves a job the chat takes up again.
   */
  forChat(order: ChatGenerationOrder): Promise<GenerationOutcome> {
    const submitted = this.#jobs.submit(
      {
        userId: order.context.caller.userId,
        kind: order.task.kind === 'batch' ? 'batch' : 'image',
        source: order.context.source,
        delivery: 'chat',
        request: order.stored,
      },
      this.#work(order.task, order.context, chatEnd, order.listener),
    );
    if (submitted.position > 0) order.listener.onQueued?.(submitted.position);
    return submitted.done;
  }

  /**
   * How chat jobs a crashed process left are taken up: each is handed to `recover`, to run again or end.
   * Without it they end failed, their quota already released.
   */
  onRecoveredChat(recover: (job: RecoveredGeneration) => Promise<void>): void {
    this.#jobs.onRecover('chat', (record) =>
      recover({
        record,
        rerun: (task, context) => this.#jobs.resume(record, this.#work(task, context, chatEnd)),
        abandon: (reason) => this.#jobs.abandon(record.id, reason),
      }),
    );
  }

  /**
   * REST generations as jobs, worded by `answers`. Also takes up polled REST jobs a crashed process left:
   * they run again the way their caller asked for them.
   */
  overRest(answers: RestAnswers): RestGenerationJobs {
    this.#jobs.onRecover('rest-async', async (job) => {
      const caller = await this.#accounts.appCaller(job.userId);
      const task = restTaskFromStored(job.kind, job.request);
      await this.#jobs.resume(job, this.#restWork(task, caller, undefined, true, answers));
    });
    return { run: (order) => this.#runRest(order, answers) };
  }

  /** A job's work: the generator's call for `task`, with the running job as the generation's `job`. */
  #work<T>(
    task: GenerationTask | UnparsedGenerationTask,
    context: JoblessContext,
    end: JobEnd<T>,
    listener: JobListener = {},
  ): JobWork<T> {
    return async (running) => {
      const job = new RunningGenerationJob(running, end.keep, listener);
      try {
        const outcome = await runTask(this.#generator, task, { ...context, job });
        return { status: 'succeeded', value: end.succeeded(outcome) };
      } catch (error) {
        if (!end.failed || !ImagineError.isInstance(error)) throw error;
        return end.failed(error);
      }
    };
  }

  /** A REST job's work; errors become the contract's bodies so async callers can read them. */
  #restWork(
    task: GenerationTask,
    caller: Caller,
    abortSignal: AbortSignal | undefined,
    keepResult: boolean,
    answers: RestAnswers,
  ): JobWork<RestEnd> {
    const context = { caller, scope: undefined, source: 'api' as const, abortSignal };
    // Methods, not arrow properties: tsx (which `npm start` runs under) wraps each named closure in a call
    // that sets its name, and this object is made per request.
    return this.#work(task, context, {
      succeeded(outcome): RestEnd {
        return { reply: answers.succeeded(task, outcome), error: undefined };
      },
      // Only a result someone may ask for again (a polled job, an idempotent retry) is worth storing. The
      // reply is built in the charge's transaction and kept with it: never succeeded without it.
      keep: keepResult
        ? (outcome) => {
            const reply = answers.succeeded(task, outcome);
            return { httpStatus: reply.httpStatus, result: reply.body };
          }
        : undefined,
      failed(error) {
        const reply = answers.failed(error);
        return {
          // A caller who hung up cancelled the job; nothing was charged.
          status: abortSignal?.aborted ? 'cancelled' : 'failed',
          httpStatus: reply.httpStatus,
          ...(keepResult ? { result: reply.body } : {}),
          value: { reply, error },
        };
      },
    });
  }

  async #runRest(order: RestGenerationOrder, answers: RestAnswers): Promise<RestJobAnswer> {
    const { task, caller, respondAsync, idempotencyKey: key, log } = order;
    // Before anything is written: a full disk is a 503 now, not a key or a job that cannot be recorded.
    this.#disk.assertWritable();
    const jobId = this.#jobs.newJobId();
    const spec: JobSpec = {
      userId: caller.userId,
      kind: task.kind === 'batch' ? 'batch' : 'image',
      source: 'api',
      delivery: respondAsync ? 'rest-async' : 'rest',
      // Only a polled job runs again after a crash; a waiting caller's connection is gone with the process.
      request: respondAsync ? storedRestRequest(task) : null,
    };
    // An async caller is not waiting on this connection, so its job must not stop when the connection does.
    const work = this.#restWork(
      task,
      caller,
      respondAsync ? undefined : order.hangUp(),
      respondAsync || key !== undefined,
      answers,
    );
    let submitted: { done: Promise<RestEnd>; position: number; recorded: Promise<void> };
    if (key === undefined) {
      submitted = this.#jobs.submit(spec, work, jobId);
    } else {
      // The key and the job's row are one write: a repeat that finds the key held finds this job, here or
      // in another process, and waits for it instead of running (and charging) again.
      const row: NewJobRow = {
        id: jobId,
        ...spec,
        status: 'queued',
        workerId: this.#jobs.workerId,
        now: this.#now(),
      };
      const claim = await this.#idempotencyKeys.claim(caller.userId, key, restRequestHash(task), row);
      if (claim.kind === 'conflict') {
        throw validationError([
          { field: 'Idempotency-Key', message: 'was already used with a different request body' },
        ]);
      }
      if (claim.kind === 'replay') return this.#replay(order, answers, claim.jobId);
      let started: Promise<void> | undefined;
      const done = this.#jobs.resume(
        newJobRecord(row),
        this.#markingRunning(work, log, (marked) => {
          started = marked;
        }),
      );
      // A job that starts at once says so before a 202 invites the caller to poll it: the answer waits for
      // its first try at a slot (a guarded start in the store), and reads its place in line after that.
      const jobs = this.#jobs;
      submitted = {
        done,
        get position() {
          return jobs.position(jobId);
        },
        recorded: jobs.firstTryToStart(jobId).then(() => started),
      };
    }
    try {
      if (respondAsync) {
        submitted.done.then(
          (end) => this.#freeKeyUnlessReplayable(end, caller.userId, key, jobId, log),
          async (error: unknown) => {
            await this.#freeKey(caller.userId, key, jobId, log);
            log.error({ err: error, jobId }, 'an async job failed');
          },
        );
        // 202 only for a job that exists: one the disk refused to record is the caller's 503, now.
        await submitted.recorded;
        const status = submitted.position === 0 ? 'running' : 'queued';
        return { kind: 'accepted', jobId, status, position: submitted.position, replayed: false };
      }
      const end = await submitted.done;
      await this.#freeKeyUnlessReplayable(end, caller.userId, key, jobId, log);
      return { kind: 'ended', ...end, replayed: false };
    } catch (error) {
      if (!(ImagineError.isInstance(error) && isReplayableStatus(error.httpStatus))) {
        await this.#freeKey(caller.userId, key, jobId, log);
      }
      throw error;
    }
  }

  /**
   * An outcome the caller never got to act on (cancelled, failed on our side, never recorded because the
   * disk refused it) frees the key: the retry it exists for must run, not replay that.
   */
  async #freeKeyUnlessReplayable(
    end: RestEnd,
    userId: string,
    key: string | undefined,
    jobId: string,
    log: JobLog,
  ): Promise<void> {
    if (!isReplayableStatus(end.reply.httpStatus)) await this.#freeKey(userId, key, jobId, log);
  }

  async #freeKey(userId: string, key: string | undefined, jobId: string, log: JobLog): Promise<void> {
    if (key === undefined) return;
    try {
      await this.#idempotencyKeys.release(userId, key, jobId);
    } catch (releaseError) {
      log.warn({ err: releaseError, jobId }, 'freeing an idempotency key failed');
    }
  }

  /**
   * The work of a job whose row went in with its key, queued: the row says running once the work begins
   * (a job that waited its turn was marked so already, and this changes nothing). `onMarked` gets the write.
   */
  #markingRunning<T>(work: JobWork<T>, log: JobLog, onMarked: (marked: Promise<void>) => void): JobWork<T> {
    return (job) => {
      onMarked(
        this.#jobStore.start(job.id, this.#now()).then(
          () => undefined,
          (error: unknown) => log.error({ err: error, jobId: job.id }, 'recording that a job started failed'),
        ),
      );
      return work(job);
    };
  }

  /**
   * A repeated Idempotency-Key: the first request's answer, without running (or charging) again, once that
   * answer is one to replay. A first request that was cancelled or failed on our side freed its key (or,
   * after a crash, is found so here): the retry runs as a new request.
   */
  async #replay(order: RestGenerationOrder, answers: RestAnswers, jobId: string): Promise<RestJobAnswer> {
    const userId = order.caller.userId;
    const runAgain = async () => {
      await this.#idempotencyKeys.release(userId, order.idempotencyKey as string, jobId);
      return this.#runRest(order, answers);
    };
    const running = this.#jobs.inFlight(jobId);
    if (running && !order.respondAsync) {
      const shared = (await running.catch(() => undefined)) as RestEnd | undefined;
      if (!shared || !isReplayableStatus(shared.reply.httpStatus)) return runAgain();
      return { kind: 'ended', ...shared, replayed: true };
    }
    for (let waited = 0; ; waited += replayPollMs) {
      const job = await this.#jobStore.get(jobId, userId);
      const finished = job !== undefined && job.status !== 'queued' && job.status !== 'running';
      // No row (a key claimed without its job, by an earlier version) or an ending the caller never heard:
      // not one to replay.
      if (!job || (finished && !isReplayableStatus(job.httpStatus))) return runAgain();
      if (finished) {
        const reply = { httpStatus: job.httpStatus as number, body: job.result };
        return { kind: 'ended', reply, error: undefined, replayed: true };
      }
      if (order.respondAsync || waited >= replayWaitMs) {
        const position = this.#jobs.position(jobId);
        return { kind: 'accepted', jobId, status: job.status, position, replayed: true };
      }
      await new Promise((resolve) => setTimeout(resolve, replayPollMs));
    }
  }
}

/**
 * A running job as a generation's job: one object for the generator instead of a bundle of hooks. `keep`
 * turns the outcome into what a caller may ask for again; `listener` hears progress and places in line.
 * A class, not an object of closures: one is made per generation, on the request path.
 */
class RunningGenerationJob implements GenerationJob {
  readonly #job: RunningJob;
  readonly #keep: ((outcome: GenerationOutcome) => KeptResult) | undefined;
  readonly #listener: JobListener;
  #waited = false;

  constructor(
    job: RunningJob,
    keep: ((outcome: GenerationOutcome) => KeptResult) | undefined,
    listener: JobListener,
  ) {
    this.#job = job;
    this.#keep = keep;
    this.#listener = listener;
  }

  get id(): string {
    return this.#job.id;
  }

  get rowWithHold(): RunningJob['rowWithHold'] {
    return this.#job.rowWithHold;
  }

  get resumeProviderRequestId(): string | undefined {
    return this.#job.resumeProviderRequestId;
  }

  // The user's other jobs, in other processes, fill their line (MAX_JOBS_PER_USER counts them all): the
  // listener hears where this one stands while it waits, and when it starts.
  async waitForStart(signal?: AbortSignal): Promise<void> {
    const started = this.#job.waitForStart(signal);
    const position = this.#job.position;
    if (position > 0) this.#listener.onQueued?.(position);
    await started;
    if (position > 0) this.#listener.onQueued?.(0);
  }

  keep(outcome: GenerationOutcome): KeptResult | undefined {
    return this.#keep?.(outcome);
  }

  finishedWithCharge(): void {
    this.#job.finishedWithCharge();
  }

  noteProviderRequest(providerRequestId: string): void {
    this.#job.noteProviderRequest(providerRequestId);
  }

  noteProgress(progress: number): void {
    this.#job.noteProgress(progress);
    this.#listener.onProgress?.(progress);
  }

  // Waiting behind other work on a busy model (one GPU): the listener hears where the job stands, and when
  // the wait is over.
  noteQueuePosition(position: number): void {
    this.#job.noteQueuePosition(position);
    if (position > 0 || this.#waited) this.#listener.onQueued?.(position);
    this.#waited ||= position > 0;
  }
}

/** One job's generator call; an unparsed task is parsed here, inside its job. */
function runTask(
  generator: ImageGenerator,
  task: GenerationTask | UnparsedGenerationTask,
  context: GenerationContext,
): Promise<GenerationOutcome> {
  switch (task.kind) {
    case 'image':
      return generator.generateValidated(
        bodyOf(task, (input) => parseRequest(imageRequestSchema, input)),
        context,
      );
    case 'batch':
      return generator.generateBatchValidated(
        bodyOf(task, (input) => parseRequest(batchRequestSchema, input)),
        context,
      );
    case 'variation':
      return generator.varyValidated(
        task.imageId,
        bodyOf(task, (input) => variationRequestSchema.parse(input)),
        context,
        task.owner,
      );
    case 'upscale':
      return generator.upscaleValidated(
        task.imageId,
        bodyOf(task, (input) => upscaleRequestSchema.parse(input)),
        context,
        task.owner,
      );
  }
}

function bodyOf<Body>(task: { body: Body } | { input: unknown }, parse: (input: unknown) => Body): Body {
  return 'input' in task ? parse(task.input) : task.body;
}

/** A REST job's request column: the body itself for generate (as before), tagged for the image routes. */
function storedRestRequest(task: GenerationTask): unknown {
  if (task.kind === 'image' || task.kind === 'batch') return task.body;
  return { operation: task.kind, image_id: task.imageId, body: task.body };
}

function restTaskFromStored(kind: 'image' | 'batch', request: unknown): GenerationTask {
  const tagged = request as { operation?: unknown; image_id?: unknown; body?: unknown };
  if (tagged.operation === 'variation')
    return { kind: 'variation', imageId: String(tagged.image_id), body: tagged.body as VariationRequest };
  if (tagged.operation === 'upscale')
    return { kind: 'upscale', imageId: String(tagged.image_id), body: tagged.body as UpscaleRequest };
  return kind === 'image'
    ? { kind: 'image', body: request as ImageRequest }
    : { kind: 'batch', body: request as BatchRequest };
}

/** What an Idempotency-Key's request is: generate bodies hash as before (kind and body), image routes add the image. */
function restRequestHash(task: GenerationTask): string {
  return requestHash(
    task.kind === 'image' || task.kind === 'batch'
      ? { kind: task.kind, body: task.body }
      : { kind: task.kind, imageId: task.imageId, body: task.body },
  );
}

/** The record of a row just written, as `JobRunner.resume` takes it. */
function newJobRecord(row: NewJobRow): JobRecord {
  const { now, ...fields } = row;
  return {
    ...fields,
    httpStatus: undefined,
    result: undefined,
    providerRequestId: undefined,
    progress: undefined,
    heartbeatAt: now,
    createdAt: now,
    startedAt: undefined,
    finishedAt: undefined,
  };
}
