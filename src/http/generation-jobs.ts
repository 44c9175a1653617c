import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Caller, UserAccounts } from '../core/accounts/user-accounts.ts';
import { ImagineError, validationError } from '../core/errors/imagine-error.ts';
import { generationJob } from '../core/generation/generation-job.ts';
import type {
  BatchRequest,
  ImageRequest,
  UpscaleRequest,
  VariationRequest,
} from '../core/generation/generation-request.ts';
import type {
  GenerationContext,
  GenerationOutcome,
  ImageGenerator,
} from '../core/generation/image-generator.ts';
import { type IdempotencyKeys, isReplayableStatus, requestHash } from '../core/jobs/idempotency-keys.ts';
import type { JobOutcome, JobRunner, JobWork } from '../core/jobs/job-runner.ts';
import type { JobStatus, JobStore } from '../core/jobs/job-store.ts';
import type { DiskHealth } from '../core/storage/disk-health.ts';
import { errorBody } from './error-handler.ts';
import { batchResponse, imageResponse } from './image-response.ts';
import { pollAfterSeconds } from './poll-after.ts';
import { abortSignalFor } from './request-abort-signal.ts';
import { jobStatusSchema } from './schemas/response-schemas.ts';

/**
 * What a REST generation does: one image or a batch from a prompt (with or without an init image), or a
 * variation or upscale of a stored image. Stored as the polled job's request, so it runs again after a crash.
 */
export type RestGeneration =
  | { kind: 'image'; body: ImageRequest }
  | { kind: 'batch'; body: BatchRequest }
  | { kind: 'variation'; imageId: string; body: VariationRequest }
  | { kind: 'upscale'; imageId: string; body: UpscaleRequest };

/** The job's request column: the body itself for generate (as before), tagged for the image routes. */
function storedRequest(generation: RestGeneration): unknown {
  if (generation.kind === 'image' || generation.kind === 'batch') return generation.body;
  return { operation: generation.kind, image_id: generation.imageId, body: generation.body };
}

function fromStored(kind: 'image' | 'batch', request: unknown): RestGeneration {
  const tagged = request as { operation?: unknown; image_id?: unknown; body?: unknown };
  if (tagged.operation === 'variation')
    return { kind: 'variation', imageId: String(tagged.image_id), body: tagged.body as VariationRequest };
  if (tagged.operation === 'upscale')
    return { kind: 'upscale', imageId: String(tagged.image_id), body: tagged.body as UpscaleRequest };
  return kind === 'image'
    ? { kind: 'image', body: request as ImageRequest }
    : { kind: 'batch', body: request as BatchRequest };
}

export const acceptedSchema = z.object({
  job_id: z.string(),
  status: jobStatusSchema,
  position: z.number().int().describe('Place in your line of waiting jobs; 0 once running'),
  status_url: z.string(),
});
z.globalRegistry.add(acceptedSchema, {
  id: 'JobAccepted',
  description: 'The job was accepted; poll `status_url` for its result',
});

/** `Prefer: respond-async` and `Idempotency-Key`, as every generation route reads them. */
export const asyncHeaders = z.looseObject({
  prefer: z.string().optional().describe('`respond-async`: answer 202 at once and poll the job'),
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Same key and body within 24 h → the same response, charged once; other body → 422'),
});

/** What a generation job hands back to the route that waits for it. */
type JobAnswer = { httpStatus: number; body: unknown; error: ImagineError | undefined };

/** The parts of a request the job plumbing reads. */
export interface GenerationHttpRequest {
  headers: z.infer<typeof asyncHeaders>;
  caller: Caller;
  log: FastifyBaseLogger;
}

/** Runs REST generations as durable jobs: waiting or `respond-async`, idempotent, resumed after a crash. */
export interface GenerationJobs {
  /** Answers the request: 201 with the result, 202 with the job, or the contract's error. */
  handle(
    generation: RestGeneration,
    request: GenerationHttpRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply>;
}

/**
 * The one owner of "a REST generation as a job": `POST /generate/image`, `/batch`, `/images/{id}/variations`
 * and `/images/{id}/upscale` all answer through it. Registers the re-run of polled jobs after a crash.
 */
export function createGenerationJobs(dependencies: {
  generator: ImageGenerator;
  jobs: JobRunner;
  jobStore: JobStore;
  idempotencyKeys: IdempotencyKeys;
  accounts: UserAccounts;
  disk: DiskHealth;
}): GenerationJobs {
  const { generator, jobs, jobStore, idempotencyKeys, accounts, disk } = dependencies;

  function run(generation: RestGeneration, context: GenerationContext): Promise<GenerationOutcome> {
    switch (generation.kind) {
      case 'image':
        return generator.generateValidated(generation.body, context);
      case 'batch':
        return generator.generateBatchValidated(generation.body, context);
      case 'variation':
        return generator.varyValidated(generation.imageId, generation.body, context);
      case 'upscale':
        return generator.upscaleValidated(generation.imageId, generation.body, context);
    }
  }

  /** Runs a validated request as a job; errors become the contract's bodies so async callers can read them. */
  function work(
    generation: RestGeneration,
    caller: Caller,
    abortSignal: AbortSignal | undefined,
    keepResult: boolean,
  ): JobWork<JobAnswer> {
    const single = generation.kind !== 'batch';
    // Only a result someone may ask for again (a polled job, an idempotent retry) is worth storing.
    const responseFor = (outcome: GenerationOutcome) => {
      const image = outcome.images[0];
      if (single && !image) throw new Error('a generation reported success without an image');
      return single && image
        ? imageResponse(image, outcome.usage, outcome.generationSeconds)
        : batchResponse(outcome);
    };
    return async (job): Promise<JobOutcome<JobAnswer>> => {
      const context = {
        caller,
        scope: undefined,
        source: 'api' as const,
        abortSignal,
        // The response is built in the charge's transaction and kept with it: never succeeded without it.
        job: generationJob(
          job,
          keepResult ? (outcome) => ({ httpStatus: 201, result: responseFor(outcome) }) : undefined,
        ),
      };
      try {
        const response = responseFor(await run(generation, context));
        return { status: 'succeeded', value: { httpStatus: 201, body: response, error: undefined } };
      } catch (error) {
        if (!ImagineError.isInstance(error)) throw error;
        const failure = errorBody(error);
        return {
          // A caller who hung up cancelled the job; nothing was charged.
          status: abortSignal?.aborted ? 'cancelled' : 'failed',
          httpStatus: error.httpStatus,
          ...(keepResult ? { result: failure } : {}),
          value: { httpStatus: error.httpStatus, body: failure, error },
        };
      }
    };
  }

  async function handle(
    generation: RestGeneration,
    request: GenerationHttpRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const caller = request.caller;
    const jobKind = generation.kind === 'batch' ? 'batch' : 'image';
    const respondAsync = /\brespond-async\b/i.test(request.headers.prefer ?? '');
    // Before anything is written: a full disk is a 503 now, not a key or a job that cannot be recorded.
    disk.assertWritable();
    const jobId = jobs.newJobId();
    const key = request.headers['idempotency-key'];
    if (key !== undefined) {
      // Generate bodies hash as before (kind and body); the image routes add the image they work on.
      const hashed =
        generation.kind === 'image' || generation.kind === 'batch'
          ? { kind: generation.kind, body: generation.body }
          : { kind: generation.kind, imageId: generation.imageId, body: generation.body };
      const claim = await idempotencyKeys.claim(caller.userId, key, requestHash(hashed), jobId);
      if (claim.kind === 'conflict') {
        throw validationError([
          { field: 'Idempotency-Key', message: 'was already used with a different request body' },
        ]);
      }
      if (claim.kind === 'replay') return replay(generation, request, claim.jobId, reply);
    }
    const spec = {
      userId: caller.userId,
      kind: jobKind,
      source: 'api',
      delivery: respondAsync ? 'rest-async' : 'rest',
      // Only a polled job runs again after a crash; a waiting caller's connection is gone with the process.
      request: respondAsync ? storedRequest(generation) : null,
    } as const;
    // An async caller is not waiting on this connection, so its job must not stop when the connection does.
    const keepResult = respondAsync || key !== undefined;
    const submitted = jobs.submit(
      spec,
      work(generation, caller, respondAsync ? undefined : abortSignalFor(reply), keepResult),
      jobId,
    );
    // An outcome the caller never got to act on (cancelled, failed on our side, never recorded because the
    // disk refused it) frees the key: the retry it exists for must run, not replay that.
    const freeKey = async () => {
      if (key === undefined) return;
      try {
        await idempotencyKeys.release(caller.userId, key, jobId);
      } catch (releaseError) {
        request.log.warn({ err: releaseError, jobId }, 'freeing an idempotency key failed');
      }
    };
    const freeKeyUnlessReplayable = async (answer: JobAnswer) => {
      if (!isReplayableStatus(answer.httpStatus)) await freeKey();
      return answer;
    };
    try {
      if (respondAsync) {
        submitted.done.then(freeKeyUnlessReplayable, async (error: unknown) => {
          await freeKey();
          request.log.error({ err: error, jobId }, 'an async job failed');
        });
        // 202 only for a job that exists: one the disk refused to record is the caller's 503, now.
        await submitted.recorded;
        return accepted(reply, jobId, submitted.position === 0 ? 'running' : 'queued', submitted.position);
      }
      return answer(reply, await freeKeyUnlessReplayable(await submitted.done));
    } catch (error) {
      if (!(ImagineError.isInstance(error) && isReplayableStatus(error.httpStatus))) await freeKey();
      throw error;
    }
  }

  /**
   * A repeated Idempotency-Key: the first request's answer, without running (or charging) again, once that
   * answer is one to replay. A first request that was cancelled or failed on our side freed its key (or,
   * after a crash, is found so here): the retry runs as a new request.
   */
  async function replay(
    generation: RestGeneration,
    request: GenerationHttpRequest,
    jobId: string,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const userId = request.caller.userId;
    const key = request.headers['idempotency-key'] as string;
    const respondAsync = /\brespond-async\b/i.test(request.headers.prefer ?? '');
    const runAgain = async () => {
      await idempotencyKeys.release(userId, key, jobId);
      return handle(generation, request, reply);
    };
    const running = jobs.inFlight(jobId);
    if (running && !respondAsync) {
      const shared = (await running.catch(() => undefined)) as JobAnswer | undefined;
      if (!shared || !isReplayableStatus(shared.httpStatus)) return runAgain();
      reply.header('idempotent-replayed', 'true');
      return answer(reply, shared);
    }
    for (let waited = 0; ; waited += 200) {
      const job = await jobStore.get(jobId, userId);
      const finished = job !== undefined && job.status !== 'queued' && job.status !== 'running';
      // No row (it was never recorded) or an ending the caller never heard: not one to replay.
      if (!job || (finished && !isReplayableStatus(job.httpStatus))) return runAgain();
      reply.header('idempotent-replayed', 'true');
      if (finished) return reply.code(job.httpStatus as number).send(job.result);
      if (respondAsync || waited >= 60_000) return accepted(reply, jobId, job.status, jobs.position(jobId));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  function answer(reply: FastifyReply, result: JobAnswer) {
    if (result.error) throw result.error;
    return reply.code(result.httpStatus).send(result.body);
  }

  function accepted(reply: FastifyReply, jobId: string, status: JobStatus, position: number) {
    const statusUrl = `/api/v1/jobs/${jobId}`;
    return reply
      .code(202)
      .header('location', statusUrl)
      .header('preference-applied', 'respond-async')
      .header('retry-after', String(pollAfterSeconds(position)))
      .send({ job_id: jobId, status, position, status_url: statusUrl });
  }

  // A job recovered after a crash runs again the way its caller asked for it.
  jobs.onRecover('rest-async', async (job) => {
    const caller = await accounts.appCaller(job.userId);
    await jobs.resume(job, work(fromStored(job.kind, job.request), caller, undefined, true));
  });

  return { handle };
}
