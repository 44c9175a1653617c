import { type AspectRatio, aspectRatios } from '../generation/image-dimensions.ts';

/** What a "make it again" command is built from: a stored image's record or a just-made one alike. */
export interface ReproducibleImage {
  prompt: string;
  promptUsed: string;
  width: number;
  height: number;
  style: string | undefined;
  seed: number | undefined;
  model: string;
}

/**
 * The `--ar` that gives this size again. Sizes are snapped to multiples the models accept (16:9 renders
 * as 1360×768, 1.77 rather than 1.78), so the closest ratio within 3% is the one that was asked for.
 */
export function nearestAspectRatio(width: number, height: number): AspectRatio | undefined {
  const actual = width / height;
  let best: { ratio: AspectRatio; error: number } | undefined;
  for (const ratio of aspectRatios) {
    const [ratioWidth, ratioHeight] = ratio.split(':').map(Number) as [number, number];
    const error = Math.abs(Math.log(actual / (ratioWidth / ratioHeight)));
    if (!best || error < best.error) best = { ratio, error };
  }
  return best && best.error < 0.03 ? best.ratio : undefined;
}

/**
 * The chat command that makes this image again (same prompt, shape, style, seed and model), as the prompt
 * flags read it. `promptLead` is what precedes the prompt on the platform: `/imagine prompt:` in Discord,
 * `/imagine ` in Slack.
 */
export function reproductionCommand(image: ReproducibleImage, promptLead: string): string {
  const ratio = nearestAspectRatio(image.width, image.height);
  const flags = [
    ratio && ratio !== '1:1' ? `--ar ${ratio}` : undefined,
    image.style ? `--style ${image.style}` : undefined,
    image.seed === undefined ? undefined : `--seed ${image.seed}`,
    `--model ${image.model}`,
    // The prompt went to the model as written: enhancement was off.
    image.promptUsed === image.prompt ? '--raw' : undefined,
  ].filter((flag) => flag !== undefined);
  return `${promptLead}${image.prompt} ${flags.join(' ')}`;
}
