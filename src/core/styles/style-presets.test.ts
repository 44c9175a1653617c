import { describe, expect, it } from 'vitest';
import { findStylePreset, stylePresetNames, stylePresets } from './style-presets.ts';

describe('style presets', () => {
  it('offers at least twelve distinct looks, including the ones the app shows', () => {
    expect(stylePresets.length).toBeGreaterThanOrEqual(12);
    expect(new Set(stylePresetNames).size).toBe(stylePresets.length);
    expect(stylePresetNames).toEqual(
      expect.arrayContaining([
        'realistic',
        'anime',
        'watercolor',
        'oil_painting',
        'pixel_art',
        '3d_render',
        'cinematic',
        'sketch',
      ]),
    );
  });

  it('gives every preset its own modifiers and a negative prompt', () => {
    const firstModifiers = stylePresets.map((preset) => preset.modifiers[0]);
    expect(new Set(firstModifiers).size).toBe(stylePresets.length);
    for (const preset of stylePresets) {
      expect(preset.modifiers.length, preset.name).toBeGreaterThan(0);
      expect(preset.negativePrompt, preset.name).toBeTruthy();
      expect(preset.label, preset.name).toBeTruthy();
      expect(preset.description, preset.name).toBeTruthy();
    }
  });

  it('finds a preset however a person types its name', () => {
    expect(findStylePreset('Oil Painting')?.name).toBe('oil_painting');
    expect(findStylePreset(' pixel-art ')?.name).toBe('pixel_art');
    expect(findStylePreset('3D_RENDER')?.name).toBe('3d_render');
    expect(findStylePreset('claymation-noir')).toBeUndefined();
  });
});
