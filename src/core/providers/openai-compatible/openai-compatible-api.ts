import { z } from 'zod';
import { ProviderCallError } from '../provider-error.ts';
import { trimTrailingSlashes } from '../self-hosted-http.ts';

const provider = 'openai-compatible';

/** One image of an images answer: base64 when the server honours `response_format`, else a link. */
const imageDatumSchema = z.object({
  b64_json: z.string().min(1).nullish(),
  url: z.string().min(1).nullish(),
  revised_prompt: z.string().nullish(),
});

/** The part of `POST /v1/images/generations`' answer we rely on (OpenAI's ImagesResponse). */
const imagesResponseSchema = z.object({ data: z.array(imageDatumSchema).min(1) });

/** `GET /v1/models`: the models the server serves. */
const modelsResponseSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

/** One image as the server gave it. */
export type ImageDatum = z.infer<typeof imageDatumSchema>;

/**
 * The URL of an OpenAI-style endpoint (`/images/generations`, `/models`) under `base_url`. The rule:
 * `base_url` is the server's root (`http://gpu-box:8080`) and `/v1` is added; a `base_url` that already
 * ends in `/v1` (as OpenAI SDK settings are written) is used as it is, so the path is never `/v1/v1/…`.
 */
export function endpointUrl(baseUrl: string, path: '/images/generations' | '/models'): string {
  const root = trimTrailingSlashes(baseUrl);
  return `${/\/v1$/.test(root) ? root : `${root}/v1`}${path}`;
}

/** Reads an images answer; throws ProviderCallError('malformed') unless every image has bytes or a link. */
export function parseImagesResponse(value: unknown): ImageDatum[] {
  const parsed = imagesResponseSchema.safeParse(value);
  if (!parsed.success) {
    throw new ProviderCallError('malformed', `the server sent no images: ${parsed.error.message}`, {
      provider,
    });
  }
  if (parsed.data.data.some((image) => !image.b64_json && !image.url)) {
    throw new ProviderCallError('malformed', 'the server sent an image with neither b64_json nor url', {
      provider,
    });
  }
  return parsed.data.data;
}

/** The model ids of a `/v1/models` answer; undefined when it is not one. */
export function parseModelIds(value: unknown): string[] | undefined {
  const parsed = modelsResponseSchema.safeParse(value);
  return parsed.success ? parsed.data.data.map((model) => model.id) : undefined;
}
