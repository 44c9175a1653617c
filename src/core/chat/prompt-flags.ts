import { ImagineError } from '../errors/imagine-error.ts';
import { type AspectRatio, aspectRatios } from '../generation/image-dimensions.ts';
import { findStylePreset } from '../styles/style-presets.ts';

/** A chat prompt with its Midjourney-style flags taken out and read. Unset flags are undefined. */
export interface PromptWithFlags {
  prompt: string;
  aspectRatio: AspectRatio | undefined;
  style: string | undefined;
  negativePrompt: string | undefined;
  seed: number | undefined;
  model: string | undefined;
  /** `--n 2..4`: how many images (the batch command). */
  count: number | undefined;
  /** `--raw` turns prompt enhancement off. */
  enhance: boolean | undefined;
  /** `--private`: only the person sees the result. */
  private: boolean | undefined;
}

/** Every flag a person may type, with what it takes; aliases map to the same setting. */
const flagNames = {
  ar: 'aspectRatio',
  aspect: 'aspectRatio',
  style: 'style',
  no: 'negativePrompt',
  seed: 'seed',
  model: 'model',
  n: 'count',
  raw: 'raw',
  private: 'private',
} as const;

export const supportedFlags = Object.keys(flagNames).map((name) => `--${name}`);

const maximumSeed = 4_294_967_295;

/**
 * Reads `a castle --ar 16:9 --style anime --no people, text --seed 42 --model flux-dev --n 4 --raw`.
 * A flag's value runs to the next flag (so `--no` takes several words). Text before the first flag is the
 * prompt. Throws only `validation_error` naming the flag: an unknown flag, a missing or bad value, or a
 * flag given twice.
 */
export function parsePromptFlags(text: string): PromptWithFlags {
  const parsed: PromptWithFlags = {
    prompt: '',
    aspectRatio: undefined,
    style: undefined,
    negativePrompt: undefined,
    seed: undefined,
    model: undefined,
    count: undefined,
    enhance: undefined,
    private: undefined,
  };
  // Em and en dashes: phones turn `--` into `—`, and people paste from Midjourney docs.
  const normalized = text.replace(/[\u2013\u2014](?=[a-z])/gi, '--');
  const pattern = /(?:^|\s)--([^\s]*)/g;
  const matches = [...normalized.matchAll(pattern)];
  parsed.prompt = (matches[0] ? normalized.slice(0, matches[0].index) : normalized).trim();
  const seen = new Set<string>();
  matches.forEach((match, position) => {
    const rawName = match[1] ?? '';
    const flag = `--${rawName}`;
    const setting = flagNames[rawName.toLowerCase() as keyof typeof flagNames];
    if (!setting) throw flagError(flag, `is not a flag; use ${supportedFlags.join(', ')}`);
    if (seen.has(setting)) throw flagError(flag, 'is given twice');
    seen.add(setting);
    const valueStart = (match.index ?? 0) + match[0].length;
    const valueEnd = matches[position + 1]?.index ?? normalized.length;
    const value = normalized.slice(valueStart, valueEnd).trim();
    applyFlag(parsed, setting, flag, value);
  });
  return parsed;
}

function applyFlag(
  parsed: PromptWithFlags,
  setting: (typeof flagNames)[keyof typeof flagNames],
  flag: string,
  value: string,
): void {
  if (setting === 'raw' || setting === 'private') {
    if (value) throw flagError(flag, 'takes no value');
    if (setting === 'raw') parsed.enhance = false;
    else parsed.private = true;
    return;
  }
  if (!value) throw flagError(flag, 'needs a value');
  switch (setting) {
    case 'aspectRatio': {
      const ratio = aspectRatios.find((candidate) => candidate === value);
      if (!ratio) throw flagError(flag, `must be one of ${aspectRatios.join(', ')}`);
      parsed.aspectRatio = ratio;
      return;
    }
    case 'style': {
      const preset = findStylePreset(value);
      if (!preset) throw flagError(flag, `"${value}" is not a style`);
      parsed.style = preset.name;
      return;
    }
    case 'negativePrompt':
      parsed.negativePrompt = value;
      return;
    case 'seed': {
      if (!/^\d{1,10}$/.test(value) || Number(value) > maximumSeed) {
        throw flagError(flag, `must be a whole number from 0 to ${maximumSeed}`);
      }
      parsed.seed = Number(value);
      return;
    }
    case 'model':
      if (!/^[a-z0-9._-]{1,64}$/i.test(value)) throw flagError(flag, `"${value}" is not a model name`);
      parsed.model = value.toLowerCase();
      return;
    case 'count': {
      if (!/^[1-4]$/.test(value)) throw flagError(flag, 'must be 1, 2, 3 or 4');
      parsed.count = Number(value);
      return;
    }
  }
}

function flagError(flag: string, problem: string): ImagineError {
  const shown = flag.length > 24 ? `${flag.slice(0, 24)}…` : flag;
  return new ImagineError('validation_error', `${shown} ${problem}`, {
    details: [{ field: shown, message: problem }],
  });
}
