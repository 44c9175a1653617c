import { z } from 'zod';

// The parts of ComfyUI's HTTP and websocket API we rely on, as its server.py and execution.py send them
// (comfyanonymous/ComfyUI). Objects are loose: ComfyUI adds fields between versions and we ignore them.

/** `POST /prompt` accepted the graph: its id, its place in the queue, and errors of outputs it dropped. */
export const promptResponseSchema = z.looseObject({
  prompt_id: z.string().min(1),
  number: z.number(),
  node_errors: z.unknown().optional(),
});

const validationErrorSchema = z.looseObject({
  type: z.string().optional(),
  message: z.string().optional(),
  details: z.string().optional(),
});

/** One node's validation failure in a `POST /prompt` 400: what is wrong and the node's class. */
const nodeErrorSchema = z.looseObject({
  errors: z.array(validationErrorSchema).default([]),
  class_type: z.string().optional(),
});

/**
 * The 400 body of `POST /prompt`: `error` says why (`prompt_outputs_failed_validation`), `node_errors` which
 * nodes. An empty prompt gets `node_errors: []`, so a list is read as "no node named".
 */
export const promptRejectionSchema = z.looseObject({
  error: z.union([validationErrorSchema, z.string()]).optional(),
  node_errors: z
    .preprocess((value) => (Array.isArray(value) ? {} : value), z.record(z.string(), nodeErrorSchema))
    .optional(),
});

/** A node that failed validation, for the operator's log. */
export interface ComfyUINodeProblem {
  nodeId: string;
  classType: string | undefined;
  problems: string[];
}

/** The nodes a rejection names, each with its problems as text. */
export function nodeProblems(rejection: z.infer<typeof promptRejectionSchema>): ComfyUINodeProblem[] {
  return Object.entries(rejection.node_errors ?? {}).map(([nodeId, entry]) => ({
    nodeId,
    classType: entry.class_type,
    problems: entry.errors.map((error) =>
      [error.message, error.details].filter((part) => part !== undefined && part !== '').join(': '),
    ),
  }));
}

/** A file a node saved: fetched from `GET /view?filename=&subfolder=&type=`. */
export const imageReferenceSchema = z.looseObject({
  filename: z.string().min(1),
  subfolder: z.string().default(''),
  type: z.string().min(1),
});

/** A file reference as a node listed it in its output. */
export type ComfyUIImageReference = z.infer<typeof imageReferenceSchema>;

const nodeOutputSchema = z.looseObject({ images: z.array(imageReferenceSchema).optional() });

/**
 * The end of one prompt in `GET /history/{prompt_id}`: each output node's files, and (since 2024) how it
 * ended, with the websocket events it sent in `messages` as `[event, data]` pairs.
 */
export const historyEntrySchema = z.looseObject({
  outputs: z.record(z.string(), nodeOutputSchema),
  status: z
    .looseObject({
      status_str: z.string(),
      completed: z.boolean(),
      messages: z.array(z.tuple([z.string(), z.unknown()])).default([]),
    })
    .optional(),
});

/** One finished prompt as `/history` reports it. */
export type ComfyUIHistoryEntry = z.infer<typeof historyEntrySchema>;

/** `GET /history/{prompt_id}`: `{}` until the prompt has finished, then `{ [prompt_id]: entry }`. */
export const historySchema = z.record(z.string(), z.unknown());

/** `GET /queue`: items are `[number, prompt_id, prompt, extra_data, outputs, …]`. */
export const queueSchema = z.looseObject({
  queue_running: z.array(z.array(z.unknown())).default([]),
  queue_pending: z.array(z.array(z.unknown())).default([]),
});

/** Whether a `/queue` list holds this prompt. */
export function queueHolds(items: readonly (readonly unknown[])[], promptId: string): boolean {
  return items.some((item) => item[1] === promptId);
}

/** `GET /system_stats`: the version and the devices, for the readiness probe. */
export const systemStatsSchema = z.looseObject({
  system: z.looseObject({ comfyui_version: z.string().optional() }),
  devices: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        vram_total: z.number().optional(),
        vram_free: z.number().optional(),
      }),
    )
    .default([]),
});

/** Every websocket text frame is `{ type, data }`; binary frames are previews, which we ignore. */
export const socketMessageSchema = z.looseObject({ type: z.string(), data: z.unknown() });

/** `progress`: a node (a sampler) has done `value` of `max` steps. */
export const progressDataSchema = z.looseObject({
  prompt_id: z.string(),
  value: z.number(),
  max: z.number(),
  node: z.string().nullish(),
});

/** `executing` with `node: null` is ComfyUI's "this prompt is done"; with a node id, the node started. */
export const executingDataSchema = z.looseObject({
  prompt_id: z.string(),
  node: z.string().nullable(),
});

/** `execution_error` (a node raised) and `execution_interrupted` (someone pressed cancel or /interrupt). */
export const executionFailureDataSchema = z.looseObject({
  prompt_id: z.string(),
  node_id: z.union([z.string(), z.number()]).transform(String).optional(),
  node_type: z.string().optional(),
  exception_type: z.string().optional(),
  exception_message: z.string().optional(),
});

/** How a failed prompt ended, from the websocket or from the history entry's `messages`. */
export type ComfyUIExecutionFailure = z.infer<typeof executionFailureDataSchema> & {
  event: 'execution_error' | 'execution_interrupted';
};

/** The failure a history entry records, if it ended in one. */
export function failureInHistory(entry: ComfyUIHistoryEntry): ComfyUIExecutionFailure | undefined {
  for (const [event, data] of entry.status?.messages ?? []) {
    if (event !== 'execution_error' && event !== 'execution_interrupted') continue;
    const parsed = executionFailureDataSchema.safeParse(data);
    if (parsed.success) return { ...parsed.data, event };
    return { prompt_id: '', event };
  }
  return undefined;
}

/** What `POST /upload/image` answers: the name it stored the file under (renamed if taken) and where. */
export const uploadResponseSchema = z.object({
  name: z.string().min(1),
  subfolder: z.string().optional(),
  type: z.string().optional(),
});
