import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Caller } from '../core/accounts/user-accounts.ts';
import type { ImagineError } from '../core/errors/imagine-error.ts';
import type {
  GenerationJobs,
  GenerationTask,
  RestAnswers,
  RestJobAnswer,
  RestReply,
} from '../core/generation/generation-jobs.ts';
import type { GenerationOutcome } from '../core/generation/image-generator.ts';
import { errorBody } from './error-handler.ts';
import { batchResponse, imageResponse } from './image-response.ts';
import { pollAfterSeconds } from './poll-after.ts';
import { abortSignalFor } from './request-abort-signal.ts';
import { jobStatusSchema } from './schemas/response-schemas.ts';

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

/** The parts of a request the job plumbing reads. */
export interface GenerationHttpRequest {
  headers: z.infer<typeof asyncHeaders>;
  caller: Caller;
  log: FastifyBaseLogger;
}

/** Answers REST generations: waiting or `respond-async`, idempotent, resumed after a crash. */
export interface RestGenerations {
  /** Answers the request: 201 with the result, 202 with the job, or the contract's error. */
  handle(task: GenerationTask, request: GenerationHttpRequest, reply: FastifyReply): Promise<FastifyReply>;
}

/** REST's words for a generation's end: 201 with the image (or the batch), or the contract's error body. */
const restAnswers: RestAnswers = {
  succeeded(task: GenerationTask, outcome: GenerationOutcome): RestReply {
    const single = task.kind !== 'batch';
    const image = outcome.images[0];
    if (single && !image) throw new Error('a generation reported success without an image');
    const body =
      single && image
        ? imageResponse(image, outcome.usage, outcome.generationSeconds)
        : batchResponse(outcome);
    return { httpStatus: 201, body };
  },
  failed(error: ImagineError): RestReply {
    return { httpStatus: error.httpStatus, body: errorBody(error) };
  },
};

/**
 * `POST /generate/image`, `/batch`, `/images/{id}/variations` and `/images/{id}/upscale` all answer through
 * this: the core's generation jobs run them (`generationJobs.overRest`); this reads the headers and words
 * the answer in HTTP.
 */
export function createRestGenerations(generationJobs: GenerationJobs): RestGenerations {
  const jobs = generationJobs.overRest(restAnswers);
  return {
    async handle(task, request, reply) {
      const answer = await jobs.run({
        task,
        caller: request.caller,
        respondAsync: /\brespond-async\b/i.test(request.headers.prefer ?? ''),
        idempotencyKey: request.headers['idempotency-key'],
        hangUp() {
          return abortSignalFor(reply);
        },
        log: request.log,
      });
      return send(reply, answer);
    },
  };
}

function send(reply: FastifyReply, answer: RestJobAnswer): FastifyReply {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  if (answer.kind === 'ended') {
    if (answer.error) throw answer.error;
    return reply.code(answer.reply.httpStatus).send(answer.reply.body);
  }
  const statusUrl = `/api/v1/jobs/${answer.jobId}`;
  return reply
    .code(202)
    .header('location', statusUrl)
    .header('preference-applied', 'respond-async')
    .header('retry-after', String(pollAfterSeconds(answer.position)))
    .send({ job_id: answer.jobId, status: answer.status, position: answer.position, status_url: statusUrl });
}
