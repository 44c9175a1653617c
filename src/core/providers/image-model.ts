import type { StylePreset } from '../styles/style-presets.ts';

/**
 * What a model can be asked to do: draw from text, redraw an init image (`strength`), apply an instruction
 * to reference images (an edit), or enlarge an image (`upscaleFactor`).
 */
export type ModelCapability = 'text_to_image' | 'image_to_image' | 'edit' | 'upscale';

/** An image a request brings as input, checked and decoded by the core before any model sees it. */
export interface InputImage {
  bytes: Uint8Array;
  mediaType: 'image/png' | 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
}

/** Pixel dimensions of an image. */
export interface ImageDimensions {
  width: number;
  height: number;
}

/**
 * What a model could not do exactly as asked: a seed it ignores (`unsupported`), or a size mapped to the
 * nearest one it offers (`mapped`). Returned to the caller, never an error.
 */
export interface GenerationWarning {
  type: 'unsupported' | 'mapped' | 'other';
  feature: string;
  detail: string;
}

/**
 * One call to a model. Every key is present; unset ones are `undefined`, so nothing is silently dropped.
 * The core resolves both `size` (pixels wanted) and `aspectRatio` (shape wanted): Replicate takes the
 * ratio, OpenAI maps the size to its fixed set.
 */
export interface ImageModelCallOptions {
  /** What this call does; a model is only routed calls of a capability it declares. */
  task: ModelCapability;
  prompt: string;
  negativePrompt: string | undefined;
  n: number;
  size: ImageDimensions;
  aspectRatio: string | undefined;
  seed: number | undefined;
  quality: 'standard' | 'high';
  style: StylePreset | undefined;
  abortSignal: AbortSignal | undefined;
  /**
   * The provider's id for work a crashed process started (a Replicate prediction): follow it to its end
   * instead of starting (and paying for) the same work again. Models that cannot resume ignore it.
   */
  resumeProviderRequestId: string | undefined;
  /** Told the provider's id as soon as the work exists, so the job can be resumed after a crash. */
  onProviderRequest: ((providerRequestId: string) => void) | undefined;
  /** Told how far the work has got, 0–1, by providers that report it (A1111, ComfyUI, the placeholder). */
  onProgress: ((progress: number) => void) | undefined;
  /**
   * Told the call's place in line (1 = next) while a model's concurrency limit keeps it waiting (a GPU that
   * takes one job at a time), again as the line moves, and 0 once it starts.
   */
  onQueued: ((position: number) => void) | undefined;
  /**
   * The images the call works from: the init image (image_to_image), the reference images (edit), the image
   * to enlarge (upscale). Undefined for text_to_image.
   */
  inputImages: readonly InputImage[] | undefined;
  /**
   * image_to_image: how far to move from the init image, 0 (keep it) to 1 (ignore it); providers map it to
   * their own knob (Flux's `prompt_strength`, A1111's `denoising_strength`).
   */
  strength: number | undefined;
  /** upscale: how many times larger each side becomes (2 or 4). */
  upscaleFactor: number | undefined;
}

/** One image as the model produced it. */
export interface GeneratedImage {
  bytes: Uint8Array;
  mediaType: 'image/png' | 'image/jpeg' | 'image/webp';
  /** The pixels actually produced, when the model knows them (a mapped size, a downloaded file). */
  dimensions?: ImageDimensions | undefined;
  /** The seed the provider reports it used (A1111's `info`), when it reports one. */
  seed?: number | undefined;
}

/** What a model call returns. `usage.costUsd` is what the provider charged for this call, when known. */
export interface ImageModelResult {
  images: GeneratedImage[];
  warnings: GenerationWarning[];
  response: {
    modelId: string;
    timestamp: Date;
    /** The provider's id for the work (a Replicate prediction id), kept on the generation record. */
    providerRequestId: string | undefined;
    /** The prompt as the provider rewrote it (OpenAI's revised_prompt), when it did. */
    revisedPrompt: string | undefined;
  };
  usage: { costUsd: number | undefined };
}

/** A model behind one vendor's API: the only thing the core knows about providers. */
export interface ImageModel {
  readonly provider: string;
  readonly modelId: string;
  /** How many images one call may ask for; the core splits larger requests. */
  readonly maxImagesPerCall: number;
  generate(options: ImageModelCallOptions): Promise<ImageModelResult>;
}
