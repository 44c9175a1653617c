import type { ImageDimensions } from './image-model.ts';

/** A model the service knows by name, whether or not its provider is configured on this instance. */
export interface ModelDescriptor {
  id: string;
  provider: 'placeholder' | 'replicate' | 'openai';
  /** The vendor's name for the model: a Replicate `owner/name` (its latest version) or an OpenAI model id. */
  providerModel: string;
  /** Premium models are enterprise-only unless a plan lists them. */
  premium: boolean;
  description: string;
  /** The most images one provider call may return (`num_outputs`, `n`). */
  maxImagesPerCall: number;
  /** The only sizes the model renders (OpenAI); undefined when it takes an aspect ratio instead. */
  fixedSizes: readonly ImageDimensions[] | undefined;
  /** US dollars for one image of this size and quality. */
  priceUsd(size: ImageDimensions, quality: 'standard' | 'high'): number;
}

const square1024 = { width: 1024, height: 1024 };

const flat = (price: number) => (): number => price;

/**
 * Every model by the name users and operators type. Prices are the providers' list prices and are what
 * the ledger records and the monthly budget counts.
 */
export const modelCatalog: readonly ModelDescriptor[] = [
  {
    id: 'placeholder',
    provider: 'placeholder',
    providerModel: 'placeholder',
    premium: false,
    maxImagesPerCall: 1,
    fixedSizes: undefined,
    description: 'Offline placeholder renderer (no AI; for trying the service out)',
    priceUsd: flat(0),
  },
  {
    id: 'flux-schnell',
    provider: 'replicate',
    providerModel: 'black-forest-labs/flux-schnell',
    premium: false,
    maxImagesPerCall: 4,
    fixedSizes: undefined,
    description: 'Replicate black-forest-labs/flux-schnell: fast, cheap',
    priceUsd: flat(0.003),
  },
  {
    id: 'flux-dev',
    provider: 'replicate',
    providerModel: 'black-forest-labs/flux-dev',
    premium: false,
    maxImagesPerCall: 4,
    fixedSizes: undefined,
    description: 'Replicate black-forest-labs/flux-dev: higher quality, slower',
    priceUsd: flat(0.025),
  },
  {
    id: 'flux-1.1-pro',
    provider: 'replicate',
    providerModel: 'black-forest-labs/flux-1.1-pro',
    premium: false,
    maxImagesPerCall: 1,
    fixedSizes: undefined,
    description: 'Replicate black-forest-labs/flux-1.1-pro: best Flux quality',
    priceUsd: flat(0.04),
  },
  {
    id: 'dall-e-3',
    provider: 'openai',
    providerModel: 'dall-e-3',
    premium: true,
    maxImagesPerCall: 1,
    fixedSizes: [square1024, { width: 1792, height: 1024 }, { width: 1024, height: 1792 }],
    description: 'OpenAI DALL·E 3',
    priceUsd: (size, quality) => {
      const square = size.width === size.height;
      if (quality === 'high') return square ? 0.08 : 0.12;
      return square ? 0.04 : 0.08;
    },
  },
  {
    id: 'gpt-image-1',
    provider: 'openai',
    providerModel: 'gpt-image-1',
    premium: true,
    maxImagesPerCall: 4,
    fixedSizes: [square1024, { width: 1536, height: 1024 }, { width: 1024, height: 1536 }],
    description: 'OpenAI gpt-image-1',
    priceUsd: (size, quality) => {
      const square = size.width === size.height;
      if (quality === 'high') return square ? 0.167 : 0.25;
      return square ? 0.042 : 0.063;
    },
  },
];

/** The model with this name, if the service knows it. */
export function findModel(id: string): ModelDescriptor | undefined {
  return modelCatalog.find((model) => model.id === id.trim().toLowerCase());
}
