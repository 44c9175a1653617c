/** `slack/manifest.yaml` declares exactly what the code uses: its commands, events and scopes. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { slashCommands } from './commands/slash-commands.ts';

interface Manifest {
  features: {
    app_home: { home_tab_enabled: boolean };
    slash_commands: { command: string; description: string; usage_hint?: string; url?: string }[];
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { bot_events: string[] };
    interactivity: { is_enabled: boolean };
    socket_mode_enabled: boolean;
  };
}

const repositoryRoot = path.resolve(import.meta.dirname, '../../..');
const manifestText = fs.readFileSync(path.join(repositoryRoot, 'slack/manifest.yaml'), 'utf8');
const manifest = parse(manifestText) as Manifest;

/** The bot scope each Slack Web API method the app calls needs (undefined: none). */
const scopeOfMethod: Record<string, string | undefined> = {
  'auth.test': undefined,
  'views.publish': undefined,
  'views.open': undefined,
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
  'conversations.open': 'im:write',
  'usergroups.users.list': 'usergroups:read',
  'users.info': 'users:read',
};

/** Every `client.<family>.<method>(` in the app's own (non-test) sources. */
function methodsCalled(): Set<string> {
  const methods = new Set<string>();
  const folder = import.meta.dirname;
  for (const file of fs.readdirSync(folder, { recursive: true }).map(String)) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.includes('__fixtures__')) continue;
    const source = fs.readFileSync(path.join(folder, file), 'utf8');
    // Methods are two or three names deep (`chat.postMessage`, `usergroups.users.list`).
    for (const match of source.matchAll(/client\.(\w+(?:\.\w+){1,2})\(/g)) methods.add(match[1] ?? '');
  }
  return methods;
}

describe('slack/manifest.yaml', () => {
  it('declares the slash commands the app registers, with the same descriptions and hints', () => {
    expect(
      manifest.features.slash_commands.map(({ command, description, usage_hint }) => ({
        command,
        description,
        usage_hint: usage_hint ?? '',
      })),
    ).toEqual(
      slashCommands.map((definition) => ({
        command: definition.name,
        description: definition.description,
        usage_hint: definition.usageHint,
      })),
    );
  });

  it('asks for exactly the bot scopes of the Web API methods the code calls, plus commands', () => {
    const called = methodsCalled();
    for (const method of called) expect(Object.keys(scopeOfMethod), `scope of ${method}`).toContain(method);
    const needed = new Set(['commands', ...[...called].map((method) => scopeOfMethod[method])]);
    needed.delete(undefined);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('subscribes to app_home_opened, turns on interactivity and the Home tab, and Socket Mode by default', () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('points every HTTP-mode URL, once uncommented, at /slack/events', () => {
    const urls = [...manifestText.matchAll(/#\s*(?:url|request_url): (\S+)/g)].map((match) => match[1]);
    expect(urls).toHaveLength(slashCommands.length + 2);
    for (const url of urls) expect(url).toBe('https://imagine.example.com/slack/events');
  });
});
