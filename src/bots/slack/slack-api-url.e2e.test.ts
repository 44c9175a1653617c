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
import {
  type ReceivedRequest,
  type StandInServer,
  sendJson,
  startStandInServer,
} from '../../test-support/stand-in-server.ts';
import {
  appHomeOpened,
  botToken,
  buttonPress,
  channelId,
  fixture,
  HttpTransport,
  type SlackTransport,
  SocketTransport,
  signingSecret,
  slashCommand,
  startSocketModeServer,
  teamId,
} from './__fixtures__/slack-stand-in.ts';

/** Slack's Web API and the URLs it hands out, all on one local server. */
class LocalSlack {
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
      if (Date.now() > deadline) throw new Error(`Slack did not receive ${what} in time`);
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
      'views.publish': fixture('views-publish.json'),
    };
    if (method && method in replies) sendJson(response, 200, replies[method]);
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
});
