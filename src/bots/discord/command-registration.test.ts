import { ApplicationCommandOptionType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  imageRequestSchema,
  maximumNegativePromptLength,
  maximumPromptLength,
} from '../../core/generation/generation-request.ts';
import { formatRegistrationReport, registerCommands } from './command-registration.ts';
import { commandDefinitions } from './commands/index.ts';
import { createDiscordRest } from './discord-rest.ts';
import { DiscordApiStub, ids } from './test-support/discord-test-kit.ts';

/** A command as Discord stores it: ids, versions and defaults added. */
function stored(definition: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: '1300000000000000500',
    application_id: ids.application,
    version: '1300000000000000501',
    default_member_permissions: null,
    nsfw: false,
    ...definition,
    ...extra,
  };
}

describe('discord:register', () => {
  it('registers globally from the handlers’ definitions and reports added, changed, removed and unchanged', async () => {
    const api = new DiscordApiStub();
    const definitions = commandDefinitions();
    const [imagine, batch, usage] = definitions;
    const existing = [
      stored({ ...imagine, contexts: [2, 1, 0] }),
      stored({ ...batch, description: 'an older description' }),
      stored({ ...usage }),
      stored({ name: 'retired', description: 'gone now', type: 1 }),
    ];
    const listed = api.expect('GET', `/applications/${ids.application}/commands`, { body: existing });
    const written = api.expect('PUT', `/applications/${ids.application}/commands`, { body: [] });
    const report = await registerCommands({
      rest: createDiscordRest('test-bot-token'),
      applicationId: ids.application,
      guildId: undefined,
      definitions,
    });
    await listed;
    const put = await written;
    expect(put.headers.authorization).toBe('Bot test-bot-token');
    expect(put.json).toEqual(definitions);
    expect(report).toEqual({
      target: 'global',
      added: ['link', 'unlink', 'settings', 'imagine-admin'],
      changed: ['imagine-batch'],
      removed: ['retired'],
      unchanged: ['imagine', 'usage'],
      written: true,
    });
    expect(formatRegistrationReport(report)).toContain('  ~ /imagine-batch  changed\n');
  });

  it('registers to one server without install contexts, and sends nothing when nothing changed', async () => {
    const api = new DiscordApiStub();
    const route = `/applications/${ids.application}/guilds/${ids.guild}/commands`;
    const serverDefinitions = commandDefinitions().map(
      ({ integration_types: _types, contexts: _contexts, ...rest }) => rest,
    );
    const listed = api.expect('GET', route, {
      body: serverDefinitions.map((definition) => stored(definition)),
    });
    const report = await registerCommands({
      rest: createDiscordRest('test-bot-token'),
      applicationId: ids.application,
      guildId: ids.guild,
      definitions: commandDefinitions(),
    });
    await listed;
    expect(report.written).toBe(false);
    expect(report.unchanged).toHaveLength(commandDefinitions().length);
    expect(formatRegistrationReport(report)).toMatch(/^Discord commands \(server 1300000000000000002\):\n/);
  });

  it('declares definitions Discord accepts, installable by servers and users, usable in DMs', () => {
    for (const definition of commandDefinitions()) {
      expect(definition.name).toMatch(/^[-_a-z0-9]{1,32}$/);
      expect(definition.description.length).toBeLessThanOrEqual(100);
      if (definition.name === 'imagine-admin') {
        // Server admins only: installed with the bot, used in the server, hidden from others by default.
        expect(definition.integration_types).toEqual([0]);
        expect(definition.contexts).toEqual([0]);
        expect(definition.default_member_permissions).toBe('32');
      } else {
        expect(definition.integration_types).toEqual([0, 1]);
        expect(definition.contexts).toEqual([0, 1, 2]);
      }
      const options = definition.options ?? [];
      expect(options.length).toBeLessThanOrEqual(25);
      const firstOptional = options.findIndex((option) => !('required' in option && option.required));
      const lastRequired = options.findLastIndex((option) => 'required' in option && option.required);
      if (firstOptional !== -1) expect(lastRequired).toBeLessThan(firstOptional);
      for (const option of options) {
        expect(option.name).toMatch(/^[-_a-z0-9]{1,32}$/);
        expect(option.description.length).toBeLessThanOrEqual(100);
        if ('choices' in option && option.choices) expect(option.choices.length).toBeLessThanOrEqual(25);
      }
    }
    const imagine = commandDefinitions().find((definition) => definition.name === 'imagine');
    expect(imagine?.options?.map((option) => option.name)).toEqual([
      'prompt',
      'image',
      'strength',
      'style',
      'aspect_ratio',
      'model',
      'seed',
      'negative',
      'enhance',
      'private',
    ]);
    const autocompleted = imagine?.options?.filter(
      (option) => 'autocomplete' in option && option.autocomplete,
    );
    expect(autocompleted?.map((option) => option.name)).toEqual(['style', 'model']);
    const count = commandDefinitions()
      .find((definition) => definition.name === 'imagine-batch')
      ?.options?.find((option) => option.name === 'count');
    expect(count).toMatchObject({ type: ApplicationCommandOptionType.Integer, min_value: 2, max_value: 4 });
    // Image-to-image: an optional attachment and a 0–1 strength, on /imagine only.
    const option = (name: string) => imagine?.options?.find((candidate) => candidate.name === name);
    expect(option('image')).toMatchObject({ type: ApplicationCommandOptionType.Attachment });
    expect(option('image')).not.toHaveProperty('required');
    expect(option('strength')).toMatchObject({
      type: ApplicationCommandOptionType.Number,
      min_value: 0,
      max_value: 1,
    });
    const batchOptions = commandDefinitions().find(
      (definition) => definition.name === 'imagine-batch',
    )?.options;
    expect(batchOptions?.map((candidate) => candidate.name)).not.toContain('image');
  });

  it('lets Discord refuse a prompt longer than the core accepts, as it is typed', () => {
    for (const name of ['imagine', 'imagine-batch']) {
      const options = commandDefinitions().find((definition) => definition.name === name)?.options ?? [];
      const option = (optionName: string) => options.find((candidate) => candidate.name === optionName);
      expect(option('prompt')).toMatchObject({ min_length: 1, max_length: maximumPromptLength });
      expect(option('negative')).toMatchObject({ max_length: maximumNegativePromptLength });
    }
    // The limit is the core's own: a prompt of exactly that length is accepted, one more is not.
    expect(imageRequestSchema.safeParse({ prompt: 'x'.repeat(maximumPromptLength) }).success).toBe(true);
    expect(imageRequestSchema.safeParse({ prompt: 'x'.repeat(maximumPromptLength + 1) }).success).toBe(false);
  });
});
