/**
 * SLACK_API_URL: every Web API call goes to the host it names (GovSlack's `https://slack-gov.com/api/`,
 * here a real HTTP server on 127.0.0.1 answering as Slack does). The URLs that host hands back (upload_url,
 * response_url, the Socket Mode WebSocket) are used as given, so they point at the stand-in too. A call to
 * slack.com would fail the test (the network guard), so each call arriving here shows none went elsewhere.
 */
import type { ServerResponse } from 'node:http';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { storedChatJob } from '../../core/chat/chat-images.ts';
import { ProviderCallError } from '../../core/providers/provider-error.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import {
  type ReceivedRequest,
  type StandInServer,
  sendJson,
  startStandInServer,
} from '../../test-support/stand-in-server.ts';
import { scriptedModel } from '../../test-support/test-services.ts';
import {
  alice,
  aliceIdentity,
  appHomeOpened,
  botToken,
  buttonPress,
  channelId,
  fixture,
  HttpTransport,
  type SlackTransport,
  SocketTransport,
  signingSecret,
  sizedPngModel,
  slashCommand,
  startSocketModeServer,
  teamId,
} from './__fixtures__/slack-stand-in.ts';
import { slackFileHosts } from './actions/vary-this-image.ts';

/** Slack's Web API and the URLs it hands out, all on one local server. */
class LocalSlack {
  /** Answers to give a method before its usual one, first to last (an error Slack returns, say). */
  readonly scripted = new Map<string, unknown[]>();

  private constructor(
    readonly server: StandInServer,
    readonly socketUrl: { value: string },
  ) {}

  static async start(): Promise<LocalSlack> {
    const socketUrl = { value: '' };
    let self: LocalSlack | undefined;
    const server = await startStandInServer((request, response) => self?.answer(request, response));
    self = new LocalSlack(server, socketUrl);
    return self;
  }

  get apiUrl(): string {
    return `${this.server.url}/gov/api/`;
  }

  /** A response_url on this host, as the API host would hand one out with a command. */
  responseUrl(name: string): string {
    return `${this.server.url}/commands/${teamId}/${name}`;
  }

  /** `POST /gov/api/chat.postMessage` → `chat.postMessage`; other paths as they came. */
  calls(): string[] {
    return this.server.requests.map((request) =>
      request.pathname.startsWith('/gov/api/')
        ? request.pathname.slice('/gov/api/'.length)
        : `${request.method} ${request.pathname}`,
    );
  }

  /** The form fields of each call to a Web API method. */
  argsOf(method: string): Record<string, string>[] {
    return this.server.requests
      .filter((request) => request.pathname === `/gov/api/${method}`)
      .map((request) => Object.fromEntries(new URLSearchParams(request.raw.toString('utf8'))));
  }

  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`Slack did not receive ${what} in time; it received ${JSON.stringify(this.calls())}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private answer(request: ReceivedRequest, response: ServerResponse): void {
    if (request.pathname.startsWith('/upload/')) {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('OK - 1024');
      return;
    }
    if (request.pathname.startsWith('/commands/')) {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const method = request.pathname.startsWith('/gov/api/')
      ? request.pathname.slice('/gov/api/'.length)
      : undefined;
    const replies: Record<string, unknown> = {
      'auth.test': fixture('auth-test.json'),
      'apps.connections.open': {
        ...fixture<Record<string, unknown>>('apps-connections-open.json'),
        url: this.socketUrl.value,
      },
      'files.getUploadURLExternal': {
        ...fixture<Record<string, unknown>>('files-get-upload-url-external.json'),
        upload_url: `${this.server.url}/upload/v1/CwABAAAAXApfdXJsX2luZm8LAAIAAAAIRjA3VVBMT0FE`,
      },
      'files.completeUploadExternal': fixture('files-complete-upload-external.json'),
      'chat.postMessage': fixture('chat-post-message.json'),
      'chat.postEphemeral': { ok: true, message_ts: '1700000009.000100' },
      'conversations.open': fixture('conversations-open.json'),
      'usergroups.users.list': { ok: true, users: [alice] },
      'users.info': { ok: true, user: { id: alice, is_admin: false, is_owner: false } },
      'views.open': { ok: true, view: { id: 'V0001REMIX' } },
      'views.publish': fixture('views-publish.json'),
    };
    const next = method === undefined ? undefined : this.scripted.get(method)?.shift();
    if (next !== undefined) sendJson(response, 200, next);
    else if (method && method in replies) sendJson(response, 200, replies[method]);
  }
}

let current: { transport: SlackTransport; slack: LocalSlack } | undefined;
afterEach(async () => {
  await current?.transport.close();
  await current?.slack.server.close();
  current = undefined;
});

describe('SLACK_API_URL', () => {
  it('defaults to Slack’s own Web API, and always ends in a slash', () => {
    const base = { SLACK_MODE: 'http', SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret };
    expect(loadConfig(base).slack?.apiUrl).toBe('https://slack.com/api/');
    expect(loadConfig({ ...base, SLACK_API_URL: 'https://slack-gov.com/api' }).slack?.apiUrl).toBe(
      'https://slack-gov.com/api/',
    );
  });

  it("downloads a message's files from Slack's file host and the one beside SLACK_API_URL (GovSlack's)", () => {
    expect(slackFileHosts('https://slack.com/api/')).toEqual(['files.slack.com']);
    expect(slackFileHosts('https://slack-gov.com/api/')).toEqual(['files.slack.com', 'files.slack-gov.com']);
    // Not a public HTTPS API host (a stand-in, a proxy by address): no file host is guessed from it.
    expect(slackFileHosts('http://127.0.0.1:8080/gov/api/')).toEqual(['files.slack.com']);
  });

  it('over Socket Mode: the token check, the socket URL, uploads, views and button replies all go there', async () => {
    const slack = await LocalSlack.start();
    const socket = await startSocketModeServer();
    slack.socketUrl.value = socket.url;
    const transport = await SocketTransport.start({ SLACK_API_URL: slack.apiUrl }, undefined, {}, socket);
    current = { transport, slack };
    expect(slack.calls()).toEqual(['auth.test', 'apps.connections.open']);

    await transport.command(slashCommand({ text: 'a lighthouse', response_url: slack.responseUrl('1') }));
    await slack.until(() => slack.calls().includes(`POST /commands/${teamId}/1`), 'the reply');
    const upload = slack.server.requests.find((request) => request.pathname.startsWith('/upload/'));
    expect(await sharp(upload?.raw).metadata()).toMatchObject({ format: 'png', width: 1024, height: 1024 });
    const [share] = slack.argsOf('files.completeUploadExternal');
    expect(share?.channel_id).toBe(channelId);
    const shareRequest = slack.server.requests.find((request) =>
      request.pathname.endsWith('/files.completeUploadExternal'),
    );
    expect(shareRequest?.headers.authorization).toBe(`Bearer ${botToken}`);

    // Details answers through the press's response_url (Bolt's respond), on the host that handed it out.
    const blocks = JSON.parse(share?.blocks ?? '[]') as {
      type: string;
      elements?: { action_id?: string; value: string }[];
    }[];
    const details = blocks
      .flatMap((block) => (block.type === 'actions' ? (block.elements ?? []) : []))
      .find((element) => element.action_id === 'imagine_details');
    expect(details?.value).toBeTruthy();
    const press = buttonPress({ actionId: 'imagine_details', value: details?.value ?? '' });
    await transport.action({ ...press, response_url: slack.responseUrl('2') });
    await slack.until(() => slack.calls().includes(`POST /commands/${teamId}/2`), 'the details');

    await transport.event(appHomeOpened());
    await slack.until(() => slack.calls().includes('views.publish'), 'the App Home');

    expect(slack.calls()).toEqual([
      'auth.test',
      'apps.connections.open',
      'files.getUploadURLExternal',
      'POST /upload/v1/CwABAAAAXApfdXJsX2luZm8LAAIAAAAIRjA3VVBMT0FE',
      'files.completeUploadExternal',
      `POST /commands/${teamId}/1`,
      `POST /commands/${teamId}/2`,
      'views.publish',
    ]);
  });

  it('over HTTP, with public images: chat.postMessage goes there', async () => {
    const slack = await LocalSlack.start();
    const transport = await HttpTransport.start({
      SLACK_API_URL: slack.apiUrl,
      PUBLIC_BASE_URL: 'https://imagine.example.com',
    });
    current = { transport, slack };
    await transport.command(slashCommand({ text: 'a lighthouse', response_url: slack.responseUrl('3') }));
    await slack.until(() => slack.calls().includes(`POST /commands/${teamId}/3`), 'the reply');
    expect(slack.calls()).toEqual(['chat.postMessage', `POST /commands/${teamId}/3`]);
    expect(slack.argsOf('chat.postMessage')[0]?.channel).toBe(channelId);
  });
  it('over HTTP: user groups, the direct-message fallback, users.info and the Remix form go there too', async () => {
    const slack = await LocalSlack.start();
    const transport = await HttpTransport.start({
      SLACK_API_URL: slack.apiUrl,
      PUBLIC_BASE_URL: 'https://imagine.example.com',
      SLACK_USERGROUP_PLANS: 'S0001ARTISTS=pro',
    });
    current = { transport, slack };
    // The bot is not in the channel: the image goes to the person as a direct message.
    slack.scripted.set('chat.postMessage', [fixture('error-not-in-channel.json')]);
    await transport.command(slashCommand({ text: 'a lighthouse', response_url: slack.responseUrl('4') }));
    await slack.until(() => slack.calls().includes(`POST /commands/${teamId}/4`), 'the reply');
    const [toChannel, toPerson] = slack.argsOf('chat.postMessage');
    expect(toChannel?.channel).toBe(channelId);
    expect(toPerson?.channel).toBe('D0001ALICE');

    // Alice is not in SLACK_ADMIN_USERS: whether she is a workspace admin is asked with users.info.
    const refusal = (await transport.command(slashCommand({ command: '/imagine-admin', text: 'usage' }))) as {
      text: string;
    };
    expect(refusal.text).toMatch(/^Only workspace admins/);

    // Remix opens a form through the press's trigger_id.
    const blocks = JSON.parse(toPerson?.blocks ?? '[]') as {
      type: string;
      elements?: { action_id?: string; value: string }[];
    }[];
    const remix = blocks
      .flatMap((block) => (block.type === 'actions' ? (block.elements ?? []) : []))
      .find((element) => element.action_id === 'imagine_remix');
    expect(remix?.value).toBeTruthy();
    await transport.action(
      buttonPress({ actionId: 'imagine_remix', value: remix?.value ?? '' }, { user: alice }),
    );
    await slack.until(() => slack.calls().includes('views.open'), 'the Remix form');

    expect(slack.calls()).toEqual([
      'usergroups.users.list',
      'chat.postMessage',
      'conversations.open',
      'chat.postMessage',
      `POST /commands/${teamId}/4`,
      'users.info',
      'views.open',
    ]);
    for (const request of slack.server.requests.filter((each) => each.pathname.startsWith('/gov/api/'))) {
      expect(request.headers.authorization, request.pathname).toBe(`Bearer ${botToken}`);
    }
  });

  it('generations recovered after a crash are delivered through it, with their own Web API client', async () => {
    const slack = await LocalSlack.start();
    const failing = scriptedModel(() => {
      throw new ProviderCallError('unavailable', 'scripted outage', { provider: 'test' });
    }, 'flux-dev');
    const transport = await HttpTransport.start({ SLACK_API_URL: slack.apiUrl }, [sizedPngModel(), failing]);
    current = { transport, slack };
    const crashed = (prompt: string, model: string | undefined) =>
      leaveCrashedJob(transport.services, {
        userId: aliceIdentity,
        source: 'slack',
        delivery: 'chat',
        ageMs: 2 * 60_000,
        request: storedChatJob({
          kind: 'image',
          request: { prompt, size: '1024x1024', enhance_prompt: true, ...(model ? { model } : {}) },
          identity: aliceIdentity,
          place: { scopeKey: undefined, scopeLimit: undefined },
          source: 'slack',
          // No response_url (a stored one is used only when it is Slack's https): a failure is told
          // ephemerally in the channel instead.
          target: {
            origin: 'command',
            teamId,
            userId: alice,
            channelId,
            lead: { kind: 'imagine', userId: alice },
          },
        }),
      });
    await crashed('a lighthouse after the crash', undefined);
    await crashed('a lighthouse that fails again', 'flux-dev');

    expect(await transport.services.jobs.recover()).toBe(2);
    // The upload's share is the last call of the one that succeeds; the note, of the one that fails.
    await slack.until(
      () =>
        slack.calls().includes('files.completeUploadExternal') &&
        slack.calls().includes('chat.postEphemeral'),
      'the image and the note',
    );
    expect([...slack.calls()].sort()).toEqual([
      'POST /upload/v1/CwABAAAAXApfdXJsX2luZm8LAAIAAAAIRjA3VVBMT0FE',
      'chat.postEphemeral',
      'files.completeUploadExternal',
      'files.getUploadURLExternal',
    ]);
    expect(slack.argsOf('files.completeUploadExternal')[0]?.channel_id).toBe(channelId);
    expect(slack.argsOf('chat.postEphemeral')[0]).toMatchObject({ channel: channelId, user: alice });
  });
});
