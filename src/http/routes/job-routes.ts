import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import type { JobRunner } from '../../core/jobs/job-runner.ts';
import type { JobStore } from '../../core/jobs/job-store.ts';
import { isoSeconds } from '../image-response.ts';
import { pollAfterSeconds } from '../poll-after.ts';
import {
  batchResponseSchema,
  commonErrorResponses,
  errorResponse,
  errorResponseSchema,
  imageResponseSchema,
  jobStatusSchema,
} from '../schemas/response-schemas.ts';

const jobSchema = z.object({
  id: z.string(),
  status: jobStatusSchema,
  position: z
    .number()
    .int()
    .describe(
      'Place in line (1 = next): in your line of waiting jobs, or behind other work on a busy self-hosted model; 0 once the work is under way or done',
    ),
  progress: z
    .number()
    .min(0)
    .max(1)
    .describe('How far the work has got, 0–1, where the model reports it (1 once succeeded)'),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  result: z
    .union([imageResponseSchema, batchResponseSchema])
    .optional()
    .describe('When succeeded: the same body the synchronous call returns'),
  error: errorResponseSchema
    .optional()
    .describe('When failed: the error body the synchronous call would have returned'),
});
z.globalRegistry.add(jobSchema, {
  id: 'Job',
  description: 'A generation job: where it stands and, once done, its result',
});

/** `GET /api/v1/jobs/:id`: the async extension's status and result. */
export const jobRoutes: FastifyPluginAsyncZod<{ jobs: JobRunner; jobStore: JobStore }> = async (
  app,
  { jobs, jobStore },
) => {
  app.get(
    '/api/v1/jobs/:id',
    {
      schema: {
        operationId: 'getJob',
        summary: 'A generation job: where it stands and, once done, its result',
        tags: ['generate'],
        security: [{ bearer: [] }],
        params: z.object({ id: z.string().min(1).max(64) }),
        response: {
          200: jobSchema,
          404: errorResponse('not_found: no job of yours has this id'),
          ...commonErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const job = await jobStore.get(request.params.id, request.caller.userId);
      if (!job) throw new ImagineError('not_found', 'No such job');
      const finished = job.httpStatus !== undefined;
      const position = job.status === 'queued' || job.status === 'running' ? jobs.position(job.id) : 0;
      // Still in progress: say when to look again, so a polling client neither hammers nor dawdles.
      if (!finished) reply.header('retry-after', String(pollAfterSeconds(position)));
      return {
        id: job.id,
        status: job.status,
        position,
        progress: job.status === 'succeeded' ? 1 : (job.progress ?? 0),
        created_at: isoSeconds(job.createdAt),
        finished_at: job.finishedAt ? isoSeconds(job.finishedAt) : null,
        // The stored result is the body the synchronous call sent, written by the same schemas.
        ...(finished && job.status === 'succeeded'
          ? { result: job.result as z.infer<typeof jobSchema>['result'] }
          : {}),
        ...(finished && job.status !== 'succeeded'
          ? { error: job.result as z.infer<typeof errorResponseSchema> }
          : {}),
      };
    },
  );
};
