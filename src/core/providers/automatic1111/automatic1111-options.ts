import { z } from 'zod';
import type { ImageDimensions, ImageModelCallOptions, InputImage } from '../image-model.ts';

/** The upscaler an entry gets when it names none: bundled with A1111 and Forge. */
export const defaultUpscaler = 'R-ESRGAN 4x+';

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
  /**
   * The upscaler for upscales, as A1111 lists it at `/sdapi/v1/upscalers` (sent as `upscaler_1`); default
   * `R-ESRGAN 4x+`, which every A1111 and Forge install ships.
   */
  upscaler: z.string().min(1).optional(),
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

/** The part of `POST /sdapi/v1/img2img`'s body we send: txt2img's, plus the init image and its strength. */
export interface Img2ImgRequest extends Txt2ImgRequest {
  /** The init image, base64 without a data-URI prefix. */
  init_images: [string];
  /** 0 keeps the init image, 1 ignores it: the same scale as the call's `strength`. */
  denoising_strength: number;
  /** 0, "Just resize": the init image is stretched to the render size, never cropped. */
  resize_mode: 0;
}

/**
 * The img2img body for one call: the txt2img fields (checkpoint, sampling, seed, size) with the init image
 * and `denoising_strength` = `strength`.
 */
export function buildImg2ImgRequest(
  call: Pick<ImageModelCallOptions, 'prompt' | 'negativePrompt' | 'seed' | 'n'>,
  init: InputImage,
  strength: number,
  size: ImageDimensions,
  vendorModel: string | undefined,
  options: Automatic1111Options,
): Img2ImgRequest {
  return {
    ...buildTxt2ImgRequest(call, size, vendorModel, options),
    init_images: [base64Of(init)],
    denoising_strength: strength,
    resize_mode: 0,
  };
}

/** The part of `POST /sdapi/v1/extra-single-image`'s body we send (ExtrasSingleImageRequest). */
export interface UpscaleRequest {
  image: string;
  /** 0: scale by `upscaling_resize` (1, a target width and height, is not used). */
  resize_mode: 0;
  upscaling_resize: number;
  upscaler_1: string;
  /** Face restoration would repaint faces: an upscale should only enlarge. */
  gfpgan_visibility: 0;
  codeformer_visibility: 0;
}

/** The extras body for one upscale: the image enlarged `factor` times by the entry's upscaler. */
export function buildUpscaleRequest(
  image: InputImage,
  factor: number,
  options: Automatic1111Options,
): UpscaleRequest {
  return {
    image: base64Of(image),
    resize_mode: 0,
    upscaling_resize: factor,
    upscaler_1: options.upscaler ?? defaultUpscaler,
    gfpgan_visibility: 0,
    codeformer_visibility: 0,
  };
}

function base64Of(image: InputImage): string {
  return Buffer.from(image.bytes).toString('base64');
}
