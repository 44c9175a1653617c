/** `slack/manifest.yaml` declares exactly what the code uses: its commands, events and scopes. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { varyThisImageShortcut } from './actions/vary-this-image.ts';
import { slashCommands } from './commands/slash-commands.ts';

interface Manifest {
  features: {
    app_home: { home_tab_enabled: boolean };
    slash_commands: { command: string; description: string; usage_hint?: string; url?: string }[];
    shortcuts?: { name: string; type: string; callback_id: string; description: string }[];
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

/** The app's own (non-test) sources. */
function appSources(): string[] {
  const folder = import.meta.dirname;
  return fs
    .readdirSync(folder, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.includes('__fixtures__'))
    .map((file) => fs.readFileSync(path.join(folder, file), 'utf8'));
}

/** Every `client.<family>.<method>(` in the app's own sources. */
function methodsCalled(): Set<string> {
  const methods = new Set<string>();
  for (const source of appSources()) {
    // Methods are two or three names deep (`chat.postMessage`, `usergroups.users.list`).
    for (const match of source.matchAll(/client\.(\w+(?:\.\w+){1,2})\(/g)) methods.add(match[1] ?? '');
  }
  return methods;
}

/** Downloading a shared file's `url_private` with the bot token needs `files:read`. */
function readsSharedFiles(): boolean {
  return appSources().some((source) => /\burl_private\b/.test(source));
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

  it('asks for exactly the bot scopes of the Web API methods the code calls, plus commands and files:read', () => {
    const called = methodsCalled();
    for (const method of called) expect(Object.keys(scopeOfMethod), `scope of ${method}`).toContain(method);
    expect(readsSharedFiles()).toBe(true);
    const needed = new Set(['commands', 'files:read', ...[...called].map((method) => scopeOfMethod[method])]);
    needed.delete(undefined);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
    expect(manifest.oauth_config.scopes.bot).toContain('files:read');
  });

  it('declares the "Vary this image" message shortcut the app listens for', () => {
    expect(manifest.features.shortcuts).toEqual([varyThisImageShortcut]);
    expect(varyThisImageShortcut).toMatchObject({ type: 'message', callback_id: 'vary_this_image' });
    // The manifest's limits (@slack/web-api's Manifest type): callback_id 255, description 150.
    expect(varyThisImageShortcut.description.length).toBeLessThanOrEqual(150);
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
