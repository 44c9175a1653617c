import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Caller, UserAccounts } from '../../core/accounts/user-accounts.ts';
import { ImagineError, validationError } from '../../core/errors/imagine-error.ts';
import { generationJob } from '../../core/generation/generation-job.ts';
import type { BatchRequest, ImageRequest } from '../../core/generation/generation-request.ts';
import type { GenerationOutcome, ImageGenerator } from '../../core/generation/image-generator.ts';
import { type IdempotencyKeys, isReplayableStatus, requestHash } from '../../core/jobs/idempotency-keys.ts';
import type { JobOutcome, JobRunner, JobWork } from '../../core/jobs/job-runner.ts';
import type { JobStatus, JobStore } from '../../core/jobs/job-store.ts';
import type { DiskHealth } from '../../core/storage/disk-health.ts';
import { errorBody } from '../error-handler.ts';
import { batchResponse, imageResponse } from '../image-response.ts';
import { pollAfterSeconds } from '../poll-after.ts';
import { abortSignalFor } from '../request-abort-signal.ts';
import { documented } from '../schemas/documented-response.ts';
import { imageGenerationRequestSchema, multipleImageRequestSchema } from '../schemas/request-schemas.ts';
import { responseHeaders } from '../schemas/response-headers.ts';
import {
  batchResponseSchema,
  commonErrorResponses,
  errorResponse,
  imageResponseSchema,
  jobStatusSchema,
} from '../schemas/response-schemas.ts';

const generationErrors = {
  ...commonErrorResponses,
  402: errorResponse('graphics_limit_reached: the monthly limit is used up (`used`, `limit`)'),
  403: errorResponse('model_not_allowed: the plan does not include that model (`model`, `plan`)'),
  422: errorResponse(
    'validation_error (`details` names each field), or content_policy_violation: the prompt was refused',
  ),
  502: errorResponse('generation_failed: the provider could not make the image'),
  503: errorResponse(
    'provider_unavailable (`retry_after` when known), budget_exhausted, or storage_unavailable (the disk is full or failing; `retry_after`)',
    responseHeaders.retryAfter,
  ),
};

const acceptedSchema = z.object({
  job_id: z.string(),
  status: jobStatusSchema,
  position: z.number().int().describe('Place in your line of waiting jobs; 0 once running'),
  status_url: z.string(),
});
z.globalRegistry.add(acceptedSchema, {
  id: 'JobAccepted',
  description: 'The job was accepted; poll `status_url` for its result',
});

/** The synchronous answer and the async one are separate statuses, so a generated client needs no narrowing. */
function generationResponses(created: typeof imageResponseSchema | typeof batchResponseSchema, what: string) {
  return {
    201: documented(created, what, responseHeaders.idempotentReplayed),
    202: documented(acceptedSchema, 'With `Prefer: respond-async`: the job, to poll at `status_url`', {
      ...responseHeaders.location,
      ...responseHeaders.preferenceApplied,
      ...responseHeaders.idempotentReplayed,
    }),
    ...generationErrors,
  };
}

const asyncHeaders = z.looseObject({
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

/** `POST /api/v1/generate/image` and `/batch`: the contract the mobile app calls, run as durable jobs. */
export const generateRoutes: FastifyPluginAsyncZod<{
  generator: ImageGenerator;
  jobs: JobRunner;
  jobStore: JobStore;
  idempotencyKeys: IdempotencyKeys;
  accounts: UserAccounts;
  disk: DiskHealth;
}> = async (app, { generator, jobs, jobStore, idempotencyKeys, accounts, disk }) => {
  /** Runs a validated request as a job; errors become the contract's bodies so async callers can read them. */
  function work(
    kind: 'image' | 'batch',
    body: ImageRequest | BatchRequest,
    caller: Caller,
    abortSignal: AbortSignal | undefined,
    keepResult: boolean,
  ): JobWork<JobAnswer> {
    // Only a result someone may ask for again (a polled job, an idempotent retry) is worth storing.
    const responseFor = (outcome: GenerationOutcome) => {
      const image = outcome.images[0];
      if (kind === 'image' && !image) throw new Error('a generation reported success without an image');
      return kind === 'image' && image
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
        const outcome =
          kind === 'image'
            ? await generator.generateValidated(body as ImageRequest, context)
            : await generator.generateBatchValidated(body as BatchRequest, context);
        const response = responseFor(outcome);
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

  type GenerateRequest = {
    body: ImageRequest | BatchRequest;
    headers: z.infer<typeof asyncHeaders>;
    caller: Caller;
    log: FastifyBaseLogger;
  };

  async function handle(
    kind: 'image' | 'batch',
    request: GenerateRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const caller = request.caller;
    const respondAsync = /\brespond-async\b/i.test(request.headers.prefer ?? '');
    // Before anything is written: a full disk is a 503 now, not a key or a job that cannot be recorded.
    disk.assertWritable();
    const jobId = jobs.newJobId();
    const key = request.headers['idempotency-key'];
    if (key !== undefined) {
      const claim = idempotencyKeys.claim(
        caller.userId,
        key,
        requestHash({ kind, body: request.body }),
        jobId,
      );
      if (claim.kind === 'conflict') {
        throw validationError([
          { field: 'Idempotency-Key', message: 'was already used with a different request body' },
        ]);
      }
      if (claim.kind === 'replay') return replay(kind, request, claim.jobId, reply);
    }
    const spec = {
      userId: caller.userId,
      kind,
      source: 'api',
      delivery: respondAsync ? 'rest-async' : 'rest',
      // Only a polled job runs again after a crash; a waiting caller's connection is gone with the process.
      request: respondAsync ? request.body : null,
    } as const;
    // An async caller is not waiting on this connection, so its job must not stop when the connection does.
    const keepResult = respondAsync || key !== undefined;
    const submitted = jobs.submit(
      spec,
      work(kind, request.body, caller, respondAsync ? undefined : abortSignalFor(reply), keepResult),
      jobId,
    );
    // An outcome the caller never got to act on (cancelled, failed on our side, never recorded because the
    // disk refused it) frees the key: the retry it exists for must run, not replay that.
    const freeKey = () => {
      if (key === undefined) return;
      try {
        idempotencyKeys.release(caller.userId, key, jobId);
      } catch (releaseError) {
        request.log.warn({ err: releaseError, jobId }, 'freeing an idempotency key failed');
      }
    };
    const freeKeyUnlessReplayable = (answer: JobAnswer) => {
      if (!isReplayableStatus(answer.httpStatus)) freeKey();
      return answer;
    };
    try {
      if (respondAsync) {
        submitted.done.then(freeKeyUnlessReplayable, (error: unknown) => {
          freeKey();
          request.log.error({ err: error, jobId }, 'an async job failed');
        });
        // 202 only for a job that exists: one the disk refused to record is the caller's 503, now.
        await submitted.recorded;
        return accepted(reply, jobId, submitted.position === 0 ? 'running' : 'queued', submitted.position);
      }
      return answer(reply, freeKeyUnlessReplayable(await submitted.done));
    } catch (error) {
      if (!(ImagineError.isInstance(error) && isReplayableStatus(error.httpStatus))) freeKey();
      throw error;
    }
  }

  /**
   * A repeated Idempotency-Key: the first request's answer, without running (or charging) again, once that
   * answer is one to replay. A first request that was cancelled or failed on our side freed its key (or,
   * after a crash, is found so here): the retry runs as a new request.
   */
  async function replay(
    kind: 'image' | 'batch',
    request: GenerateRequest,
    jobId: string,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const userId = request.caller.userId;
    const key = request.headers['idempotency-key'] as string;
    const respondAsync = /\brespond-async\b/i.test(request.headers.prefer ?? '');
    const runAgain = () => {
      idempotencyKeys.release(userId, key, jobId);
      return handle(kind, request, reply);
    };
    const running = jobs.inFlight(jobId);
    if (running && !respondAsync) {
      const shared = (await running.catch(() => undefined)) as JobAnswer | undefined;
      if (!shared || !isReplayableStatus(shared.httpStatus)) return runAgain();
      reply.header('idempotent-replayed', 'true');
      return answer(reply, shared);
    }
    for (let waited = 0; ; waited += 200) {
      const job = jobStore.get(jobId, userId);
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
    const request = job.request as ImageRequest | BatchRequest;
    const caller = accounts.appCaller(job.userId);
    await jobs.resume(job, work(job.kind, request, caller, undefined, true));
  });

  app.post(
    '/api/v1/generate/image',
    {
      config: { rateLimitBudget: 'generation' },
      schema: {
        operationId: 'generateImage',
        summary: 'Generate one image',
        tags: ['generate'],
        security: [{ bearer: [] }],
        headers: asyncHeaders,
        body: imageGenerationRequestSchema,
        response: generationResponses(imageResponseSchema, 'The image, generated and stored'),
      },
    },
    async (request, reply) => {
      await handle('image', request, reply);
    },
  );

  app.post(
    '/api/v1/generate/image/batch',
    {
      config: { rateLimitBudget: 'generation' },
      schema: {
        operationId: 'generateImageBatch',
        summary: 'Generate 1–4 images of one prompt, or one image for each of up to 4 prompts',
        tags: ['generate'],
        security: [{ bearer: [] }],
        headers: asyncHeaders,
        body: multipleImageRequestSchema,
        response: generationResponses(batchResponseSchema, 'The images; `failed` > 0 when some failed'),
      },
    },
    async (request, reply) => {
      await handle('batch', request, reply);
    },
  );
};
