import { z } from 'zod';
import { ProviderCallError } from '../provider-error.ts';

/**
 * The part of a Replicate prediction we rely on (https://replicate.com/docs/reference/http); anything else
 * Replicate adds is ignored. `error` is a string in practice, but a model may raise anything, so it is
 * only turned into text when the prediction failed.
 */
const predictionSchema = z.object({
  id: z.string().min(1),
  status: z.enum(['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted']),
  output: z.union([z.string(), z.array(z.string())]).nullish(),
  error: z.unknown().optional(),
  metrics: z.object({ predict_time: z.number().optional() }).nullish(),
  /** What the model printed so far; progress bars in it tell how far the prediction has got. */
  logs: z.string().nullish(),
  urls: z.object({ get: z.string().optional(), cancel: z.string().optional() }).nullish(),
});

/** A prediction as Replicate reported it. */
export type ReplicatePrediction = z.infer<typeof predictionSchema>;

/** Checks a prediction the client returned; throws ProviderCallError('malformed') when it is not one. */
export function parsePrediction(value: unknown): ReplicatePrediction {
  const parsed = predictionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProviderCallError(
    'malformed',
    `Replicate sent something that is not a prediction: ${parsed.error.message}`,
    {
      provider: 'replicate',
    },
  );
}

/** Whether Replicate will not change the prediction any more. */
export function isFinished(prediction: ReplicatePrediction): boolean {
  return prediction.status !== 'starting' && prediction.status !== 'processing';
}

/** The output as a list of URLs (FLUX1.1 [pro] returns one string, the FLUX.1 models a list). */
export function outputUrls(prediction: ReplicatePrediction): string[] {
  const { output } = prediction;
  if (output === undefined || output === null) return [];
  return typeof output === 'string' ? [output] : output;
}

/** The prediction's error as text, for classifying and for operators' logs; undefined when it gave none. */
export function predictionErrorText(prediction: ReplicatePrediction): string | undefined {
  const { error } = prediction;
  if (error === undefined || error === null || error === '') return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
