/** A named look: words added to the prompt and, for providers that take one, a negative prompt. */
export interface StylePreset {
  /** The value callers send as `style`: lower-case, underscores. */
  name: string;
  label: string;
  description: string;
  /** Terms appended to the prompt, most important first; they are what makes the style. */
  modifiers: readonly string[];
  /** What this style should avoid, for providers that accept a negative prompt. */
  negativePrompt: string | undefined;
}

// Modifiers are kept short and concrete: image models weigh early terms more, and long tails of
// adjectives dilute the prompt the user actually wrote.
export const stylePresets: readonly StylePreset[] = [
  {
    name: 'realistic',
    label: 'Realistic',
    description: 'Photographic realism with natural light and true-to-life detail.',
    modifiers: ['photorealistic', 'natural lighting', 'sharp focus', '35mm photograph'],
    negativePrompt: 'cartoon, illustration, painting, drawing, 3d render, cgi',
  },
  {
    name: 'anime',
    label: 'Anime',
    description: 'Japanese animation look: clean line art, cel shading, vivid colour.',
    modifiers: ['anime style', 'cel shading', 'clean line art', 'vibrant colors'],
    negativePrompt: 'photorealistic, photograph, 3d render, western cartoon',
  },
  {
    name: 'watercolor',
    label: 'Watercolor',
    description: 'Soft watercolor painting on textured paper with bleeding pigments.',
    modifiers: ['watercolor painting', 'soft washes', 'bleeding pigments', 'textured paper'],
    negativePrompt: 'photograph, 3d render, hard edges, digital art',
  },
  {
    name: 'oil_painting',
    label: 'Oil painting',
    description: 'Classical oil on canvas with visible brushstrokes and rich colour.',
    modifiers: ['oil painting', 'visible brushstrokes', 'canvas texture', 'rich colors'],
    negativePrompt: 'photograph, 3d render, flat colors, digital art',
  },
  {
    name: 'pixel_art',
    label: 'Pixel art',
    description: 'Retro 16-bit game sprite look with a limited palette.',
    modifiers: ['pixel art', '16-bit', 'limited palette', 'crisp pixels'],
    negativePrompt: 'blurry, photorealistic, smooth gradients, anti-aliasing',
  },
  {
    name: '3d_render',
    label: '3D render',
    description: 'Polished 3D render with global illumination and soft shadows.',
    modifiers: ['3d render', 'octane render', 'global illumination', 'soft shadows'],
    negativePrompt: 'flat, 2d, sketch, painting, photograph',
  },
  {
    name: 'cinematic',
    label: 'Cinematic',
    description: 'A film still: dramatic lighting, shallow depth of field, colour grading.',
    modifiers: ['cinematic film still', 'dramatic lighting', 'shallow depth of field', 'color graded'],
    negativePrompt: 'cartoon, flat lighting, amateur snapshot',
  },
  {
    name: 'sketch',
    label: 'Sketch',
    description: 'Pencil sketch on paper with hatching and loose lines.',
    modifiers: ['pencil sketch', 'graphite', 'cross-hatching', 'paper texture'],
    negativePrompt: 'color, photograph, 3d render, painting',
  },
  {
    name: 'digital_art',
    label: 'Digital art',
    description: 'Polished digital illustration in the style of concept art.',
    modifiers: ['digital art', 'concept art', 'detailed illustration', 'vivid colors'],
    negativePrompt: 'photograph, blurry, low detail',
  },
  {
    name: 'comic',
    label: 'Comic book',
    description: 'Comic book panel: bold ink outlines, halftone shading, flat colour.',
    modifiers: ['comic book style', 'bold ink outlines', 'halftone shading', 'flat colors'],
    negativePrompt: 'photorealistic, photograph, 3d render, blurry',
  },
  {
    name: 'fantasy',
    label: 'Fantasy',
    description: 'Epic fantasy illustration with magical light and grand scale.',
    modifiers: ['epic fantasy art', 'magical atmosphere', 'ethereal light', 'intricate details'],
    negativePrompt: 'modern, mundane, photograph, low detail',
  },
  {
    name: 'cyberpunk',
    label: 'Cyberpunk',
    description: 'Neon-lit futuristic city mood, rain and reflections.',
    modifiers: ['cyberpunk', 'neon lights', 'futuristic', 'rain-slicked reflections'],
    negativePrompt: 'daylight, rustic, medieval, pastel',
  },
  {
    name: 'minimalist',
    label: 'Minimalist',
    description: 'Clean minimalist composition, few elements, generous negative space.',
    modifiers: ['minimalist', 'simple shapes', 'negative space', 'muted palette'],
    negativePrompt: 'cluttered, busy background, intricate details, text',
  },
  {
    name: 'vintage_photo',
    label: 'Vintage photo',
    description: 'A faded film photograph from decades ago, with grain and warm tones.',
    modifiers: ['vintage photograph', 'film grain', 'faded warm tones', 'kodachrome'],
    negativePrompt: 'digital, modern, hdr, oversaturated, cartoon',
  },
  {
    name: 'isometric',
    label: 'Isometric',
    description: 'Isometric diorama view, clean geometry, soft lighting.',
    modifiers: ['isometric view', 'diorama', 'clean geometry', 'soft lighting'],
    negativePrompt: 'perspective distortion, fisheye, blurry, photograph',
  },
  {
    name: 'line_art',
    label: 'Line art',
    description: 'Black ink line drawing on white, no shading.',
    modifiers: ['line art', 'black ink on white', 'clean outlines', 'no shading'],
    negativePrompt: 'color, shading, photograph, 3d render, gradient',
  },
];

/** The canonical form of a style name: `Oil Painting`, `oil-painting` and `oil_painting` are one style. */
function normalizeStyleName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

const presetsByName = new Map(stylePresets.map((preset) => [preset.name, preset]));

/** The preset with this name, forgiving case, spaces and hyphens; undefined when there is none. */
export function findStylePreset(name: string): StylePreset | undefined {
  return presetsByName.get(normalizeStyleName(name));
}

/** Every preset name, in the order they are listed. */
export const stylePresetNames: readonly string[] = stylePresets.map((preset) => preset.name);
