import { z } from 'zod';
import type { ImageDimensions, ImageModelCallOptions } from '../image-model.ts';

/** A variable's name as MODELS_FILE gives it (`A1111_PASSWORD`), never its value. */
const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, not its value');

/**
 * The `provider: automatic1111` fields of a MODELS_FILE entry, beside the shared ones (`base_url`,
 * `vendor_model`, …) the catalog reads. Unset ones leave the server's own defaults (its UI settings).
 */
export const automatic1111OptionsShape = {
  /** Sampling steps (`steps`). */
  steps: z.number().int().min(1).max(150).optional(),
  /** Classifier-free guidance scale (`cfg_scale`). */
  cfg_scale: z.number().min(1).max(30).optional(),
  /** The sampler's name as A1111 lists it at `/sdapi/v1/samplers`, e.g. `DPM++ 2M` (sent as `sampler_name`). */
  sampler: z.string().min(1).optional(),
  /** Variables holding the `--api-auth` user and password, when the server asks for HTTP Basic auth. */
  username_env: variableName.optional(),
  password_env: variableName.optional(),
};

/** Checks the A1111 fields of an entry: the two auth variables come together or not at all. */
export const automatic1111OptionsSchema = z
  .object(automatic1111OptionsShape)
  .refine((options) => (options.username_env === undefined) === (options.password_env === undefined), {
    message: 'username_env and password_env go together: set both or neither',
    path: ['password_env'],
  });

/** An entry's A1111 fields, checked. */
export type Automatic1111Options = z.infer<typeof automatic1111OptionsSchema>;

/** The part of `POST /sdapi/v1/txt2img`'s body we send (the API's StableDiffusionProcessingTxt2Img). */
export interface Txt2ImgRequest {
  prompt: string;
  negative_prompt: string;
  /** -1 lets A1111 pick; image k of the batch then uses seed + k. */
  seed: number;
  width: number;
  height: number;
  batch_size: number;
  n_iter: 1;
  steps?: number;
  cfg_scale?: number;
  sampler_name?: string;
  override_settings?: { sd_model_checkpoint: string };
  override_settings_restore_afterwards?: boolean;
  send_images: true;
  save_images: false;
}

/**
 * The txt2img body for one call. The checkpoint is switched with `override_settings` and left loaded
 * (`override_settings_restore_afterwards: false`): restoring it would reload gigabytes of weights twice
 * per image on a box that serves this model anyway. Images are not saved on the server (`save_images`),
 * since imagine stores them itself.
 */
export function buildTxt2ImgRequest(
  call: Pick<ImageModelCallOptions, 'prompt' | 'negativePrompt' | 'seed' | 'n'>,
  size: ImageDimensions,
  vendorModel: string | undefined,
  options: Automatic1111Options,
): Txt2ImgRequest {
  return {
    prompt: call.prompt,
    negative_prompt: call.negativePrompt ?? '',
    seed: call.seed ?? -1,
    width: size.width,
    height: size.height,
    batch_size: call.n,
    n_iter: 1,
    ...(options.steps === undefined ? {} : { steps: options.steps }),
    ...(options.cfg_scale === undefined ? {} : { cfg_scale: options.cfg_scale }),
    ...(options.sampler === undefined ? {} : { sampler_name: options.sampler }),
    ...(vendorModel === undefined
      ? {}
      : {
          override_settings: { sd_model_checkpoint: vendorModel },
          override_settings_restore_afterwards: false,
        }),
    send_images: true,
    save_images: false,
  };
}
