import { z } from 'zod';
import { ProviderCallError } from '../provider-error.ts';

const provider = 'automatic1111';

/**
 * The part of A1111's TextToImageResponse we rely on (`modules/api/models.py`): base64 images and `info`,
 * a JSON *string* with the generation's parameters. `parameters` echoes the request and is ignored.
 */
const txt2ImgResponseSchema = z.object({
  images: z.array(z.string()).nullish(),
  info: z.string().optional(),
});

/** The fields of `info` (A1111's `Processed.js()`) we read; Forge writes the same ones. */
const infoSchema = z.object({
  seed: z.number().int().optional(),
  all_seeds: z.array(z.number().int()).optional(),
  /** 1 when a grid of the batch comes first in `images`. */
  index_of_first_image: z.number().int().min(0).optional(),
});

/** ProgressResponse: `progress` is 0–1 over the whole job; `state.job_count` is 0 when the server is idle. */
const progressResponseSchema = z.object({
  progress: z.number(),
  eta_relative: z.number().optional(),
  state: z.object({ job_count: z.number().optional(), interrupted: z.boolean().optional() }).optional(),
});

/** One checkpoint of `GET /sdapi/v1/sd-models`. */
const sdModelsSchema = z.array(
  z.object({ title: z.string(), model_name: z.string(), filename: z.string().optional() }),
);

/** A txt2img answer, checked: the base64 images and the seeds A1111 used, one per image. */
export interface Txt2ImgResult {
  images: string[];
  /** Seeds of `images`, in order; undefined when `info` did not say (an old fork, a broken string). */
  seeds: (number | undefined)[];
}

/**
 * Reads a txt2img answer (or img2img's, which has the same shape: `endpoint` names it in errors); throws
 * ProviderCallError('malformed') when it carries no images.
 */
export function parseTxt2ImgResponse(
  value: unknown,
  endpoint: 'txt2img' | 'img2img' = 'txt2img',
): Txt2ImgResult {
  let answer = plainTxt2ImgResponse(value);
  if (answer === undefined) {
    const parsed = txt2ImgResponseSchema.safeParse(value);
    if (!parsed.success) {
      throw new ProviderCallError(
        'malformed',
        `A1111 sent something that is not a ${endpoint} answer: ${parsed.error.message}`,
        { provider },
      );
    }
    answer = parsed.data;
  }
  const info = parseInfo(answer.info);
  const images = (answer.images ?? []).slice(info?.index_of_first_image ?? 0);
  if (images.length === 0) {
    throw new ProviderCallError('malformed', `A1111 answered ${endpoint} without images`, { provider });
  }
  const seeds = images.map((_, index) => {
    const listed = info?.all_seeds?.[index];
    if (listed !== undefined) return listed;
    // A1111 gives image k of a batch seed + k.
    return info?.seed === undefined ? undefined : info.seed + index;
  });
  return { images, seeds };
}

/** ExtrasSingleImageResponse: one base64 image, and `html_info` (what the upscaler did, as HTML). */
const extrasResponseSchema = z.object({ image: z.string().min(1) });

/** Reads an extra-single-image answer: its one base64 image; ProviderCallError('malformed') without one. */
export function parseExtrasResponse(value: unknown): Txt2ImgResult {
  const parsed = extrasResponseSchema.safeParse(value);
  if (!parsed.success) {
    throw new ProviderCallError(
      'malformed',
      `A1111 answered extra-single-image without an image: ${parsed.error.message}`,
      { provider },
    );
  }
  return { images: [parsed.data.image], seeds: [undefined] };
}

/** The job's progress, 0–1, or undefined when the answer is not a progress report. */
export function parseProgress(value: unknown): { progress: number; idle: boolean } | undefined {
  const parsed = progressResponseSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const progress = Math.min(1, Math.max(0, parsed.data.progress));
  return { progress, idle: parsed.data.state?.job_count === 0 };
}

/** The checkpoints the server has, by title (`name.safetensors [hash]`) and by name; undefined if not a list. */
export function parseSdModels(value: unknown): { title: string; model_name: string }[] | undefined {
  const parsed = sdModelsSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** `info` is JSON inside a string; a fork that breaks it costs the seed, not the images. */
function parseInfo(text: string | undefined): z.infer<typeof infoSchema> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const plain = plainInfo(value);
  if (plain !== undefined) return plain;
  const parsed = infoSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/*
 * The plain checks below accept only what the schemas above accept, with the same result, and leave
 * anything else to zod (which says what is wrong): zod's safeParse of a txt2img answer and of its `info`
 * cost ~1 µs a call alone and 2–3 µs in the self-hosted bench's profile, to check two fields each.
 */

/** `value` when it is an object whose `images` and `info` txt2ImgResponseSchema accepts as they are. */
function plainTxt2ImgResponse(value: unknown): z.infer<typeof txt2ImgResponseSchema> | undefined {
  if (!isRecord(value)) return undefined;
  const { images, info } = value;
  if (info !== undefined && typeof info !== 'string') return undefined;
  if (images === undefined || images === null) return { images, info };
  if (!Array.isArray(images)) return undefined;
  for (const image of images) if (typeof image !== 'string') return undefined;
  return { images: images as string[], info };
}

/** `value` when each field infoSchema reads is absent or (a list of) safe integers, as it requires. */
function plainInfo(value: unknown): z.infer<typeof infoSchema> | undefined {
  if (!isRecord(value)) return undefined;
  const { seed, all_seeds: allSeeds, index_of_first_image: firstImage } = value;
  if (seed !== undefined && !Number.isSafeInteger(seed)) return undefined;
  if (firstImage !== undefined && !(Number.isSafeInteger(firstImage) && (firstImage as number) >= 0))
    return undefined;
  if (allSeeds !== undefined) {
    if (!Array.isArray(allSeeds)) return undefined;
    for (const listed of allSeeds) if (!Number.isSafeInteger(listed)) return undefined;
  }
  // The object itself: the keys zod would strip are never read.
  return value as z.infer<typeof infoSchema>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
