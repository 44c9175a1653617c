/** A named look: words added to the prompt and, for providers that take one, a negative prompt. */
export interface StylePreset {
  name: string;
  label: string;
  description: string;
  modifiers: readonly string[];
  negativePrompt: string | undefined;
}

// Placeholder list: the full set of presets is being written in this file.
export const stylePresets: readonly StylePreset[] = [];

/** The preset with this name (case-insensitive), if there is one. */
export function findStylePreset(name: string): StylePreset | undefined {
  const wanted = name.trim().toLowerCase();
  return stylePresets.find((preset) => preset.name === wanted);
}
