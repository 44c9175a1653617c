import { describe, expect, it } from 'vitest';
import { openDatabase } from '../database/open-database.ts';
import { mergeImageOptions, PersonalSettingsStore } from './personal-settings.ts';
import { parsePromptFlags } from './prompt-flags.ts';
import { SqliteSettingsStore } from './sqlite/sqlite-settings-store.ts';

describe('personal settings', () => {
  it('merge in one order: settings < flags < options', () => {
    const settings = { style: 'anime', aspectRatio: '16:9', model: 'flux-dev', enhance: false } as const;
    expect(mergeImageOptions(settings, parsePromptFlags('a fox'), { text: 'a fox' })).toEqual({
      style: 'anime',
      aspect_ratio: '16:9',
      model: 'flux-dev',
      enhance_prompt: false,
    });
    const flags = parsePromptFlags('a fox --style watercolor --ar 1:1');
    expect(mergeImageOptions(settings, flags, { text: '' })).toMatchObject({
      style: 'watercolor',
      aspect_ratio: '1:1',
      model: 'flux-dev',
    });
    expect(
      mergeImageOptions(settings, flags, {
        text: '',
        style: 'cinematic',
        aspectRatio: '9:16',
        enhance: true,
      }),
    ).toEqual({ style: 'cinematic', aspect_ratio: '9:16', model: 'flux-dev', enhance_prompt: true });
    expect(mergeImageOptions({}, parsePromptFlags('a fox'), { text: '' }).enhance_prompt).toBe(true);
  });

  it('are kept per identity, changed one at a time, and reset', async () => {
    const store = new PersonalSettingsStore(new SqliteSettingsStore(openDatabase(':memory:')));
    expect(await store.get('discord:ada')).toEqual({});
    await store.update('discord:ada', { style: 'anime' });
    expect(await store.update('discord:ada', { aspectRatio: '16:9', private: true })).toEqual({
      style: 'anime',
      aspectRatio: '16:9',
      private: true,
    });
    expect(await store.update('discord:ada', { style: undefined })).toEqual({
      aspectRatio: '16:9',
      private: true,
    });
    expect(await store.get('slack:T:U')).toEqual({});
    await store.reset('discord:ada');
    expect(await store.get('discord:ada')).toEqual({});
  });
});
