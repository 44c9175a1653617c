/**
 * The settings store's contract, on every engine, through `PersonalSettingsStore`: each person's defaults
 * round-trip, change one at a time, reset, and changes made at once all land.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { PersonalSettingsStore } from './personal-settings.ts';

onEveryStoreEngine((engine, open) => {
  describe(`SettingsStore contract on ${engine}`, () => {
    let opened: StoresUnderTest;
    let settings: PersonalSettingsStore;

    beforeEach(async () => {
      opened = await open();
      settings = new PersonalSettingsStore(opened.stores.personalSettings);
    });

    afterEach(async () => {
      await opened.close();
    });

    it('round-trips, changes one setting at a time, clears one, and resets, per identity', async () => {
      expect(await settings.get('discord:ada')).toEqual({});
      expect(await settings.update('discord:ada', { style: 'anime', enhance: false })).toEqual({
        style: 'anime',
        enhance: false,
      });
      expect(await settings.update('discord:ada', { aspectRatio: '16:9', private: true })).toEqual({
        style: 'anime',
        enhance: false,
        aspectRatio: '16:9',
        private: true,
      });
      expect(await settings.update('discord:ada', { style: undefined, model: 'flux-dev' })).toEqual({
        enhance: false,
        aspectRatio: '16:9',
        private: true,
        model: 'flux-dev',
      });
      expect(await settings.get('discord:ada')).toEqual({
        enhance: false,
        aspectRatio: '16:9',
        private: true,
        model: 'flux-dev',
      });
      expect(await settings.get('slack:T1:U1')).toEqual({});
      await settings.reset('discord:ada');
      expect(await settings.get('discord:ada')).toEqual({});
    });

    it('drops what does not parse (an unknown style, a malformed model) instead of keeping it', async () => {
      expect(await settings.update('discord:ada', { style: 'no-such-style', model: 'Not A Model!' })).toEqual(
        {},
      );
      expect(await settings.get('discord:ada')).toEqual({});
    });

    it('changes of different settings made at once all land, for a new person and a known one', async () => {
      const changes = [
        { style: 'anime' },
        { aspectRatio: '16:9' as const },
        { model: 'flux-dev' },
        { enhance: false },
        { private: true },
      ];
      await Promise.all(changes.map((change) => settings.update('discord:new', change)));
      const everything = {
        style: 'anime',
        aspectRatio: '16:9',
        model: 'flux-dev',
        enhance: false,
        private: true,
      };
      expect(await settings.get('discord:new')).toEqual(everything);
      await settings.update('discord:known', { style: 'watercolor' });
      await Promise.all(changes.slice(1).map((change) => settings.update('discord:known', change)));
      expect(await settings.get('discord:known')).toEqual({ ...everything, style: 'watercolor' });
    });
  });
});
