/**
 * Test kit for the Slack app: payloads as Slack sends them (from the recorded fixtures beside this file),
 * Slack's side stood in by nock (Web API, the upload URL, response_urls), and the two ways in: signed HTTP
 * requests to the running server, and a local WebSocket server standing in for Socket Mode.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import sharp from 'sharp';
import { type WebSocket, WebSocketServer } from 'ws';
import type { GeneratedImage, ImageModel } from '../../../core/providers/image-model.ts';
import type { ServiceOverrides, Services } from '../../../services.ts';
import { createTestApp, type TestApp } from '../../../test-support/test-app.ts';
import { createTestServices, scriptedModel } from '../../../test-support/test-services.ts';
import { createSlackApp, type SlackApp } from '../slack-app.ts';
import { signSlackRequest } from '../slack-signature.ts';

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as T;
}

export const signingSecret = '8f742231b10e8888abcd99yyyzzz85a5';
export const botToken = 'xoxb-1000000001-test-bot-token';
export const appToken = 'xapp-1-A0001IMAGINE-test-app-token';
export const teamId = 'T0001TEAM';
export const alice = 'U0001ALICE';
export const bob = 'U0002BOB';
export const channelId = 'C0001GENERAL';
export const aliceIdentity = `slack:${teamId}:${alice}`;
export const bobIdentity = `slack:${teamId}:${bob}`;

export const httpEnvironment = {
  SLACK_MODE: 'http',
  SLACK_BOT_TOKEN: botToken,
  SLACK_SIGNING_SECRET: signingSecret,
};
export const socketEnvironment = {
  SLACK_MODE: 'socket',
  SLACK_BOT_TOKEN: botToken,
  SLACK_SIGNING_SECRET: signingSecret,
  SLACK_APP_TOKEN: appToken,
};

let deliveries = 0;

/** A slash command's form fields, with a trigger id and response_url of its own. */
export function slashCommand(fields: Record<string, string> = {}): Record<string, string> {
  deliveries++;
  return {
    ...fixture<Record<string, string>>('slash-command.json'),
    trigger_id: `${1000 + deliveries}.1000000000.${deliveries.toString(16).padStart(32, '0')}`,
    response_url: `https://hooks.slack.com/commands/${teamId}/${1000 + deliveries}/token${deliveries}`,
    ...fields,
  };
}

/** A button press (block_actions) on a message, by `user`, carrying the button's value. */
export function buttonPress(
  button: { actionId: string; value: string },
  options: { user?: string; actionTs?: string } = {},
): Record<string, unknown> {
  deliveries++;
  const payload = fixture<Record<string, unknown> & { actions: Record<string, unknown>[]; user: object }>(
    'block-actions.json',
  );
  const [template] = payload.actions;
  return {
    ...payload,
    user: { ...payload.user, id: options.user ?? bob },
    response_url: `https://hooks.slack.com/actions/${teamId}/${2000 + deliveries}/token${deliveries}`,
    actions: [
      {
        ...template,
        action_id: button.actionId,
        value: button.value,
        action_ts: options.actionTs ?? `1700000001.${String(deliveries).padStart(6, '0')}`,
      },
    ],
  };
}

export function appHomeOpened(user = alice): Record<string, unknown> {
  const body = fixture<{ event: object }>('app-home-opened.json');
  deliveries++;
  return { ...body, event_id: `Ev${deliveries}`, event: { ...body.event, user } };
}

/** A Web API call as Slack received it: the method and its form fields. */
export interface SlackCall {
  method: string;
  args: Record<string, string>;
}

/** Slack's side of the conversation, recorded. Interceptors are strict: an unexpected call fails the test. */
export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  /** Bytes POSTed to upload URLs. */
  readonly uploads: Buffer[] = [];
  /** JSON POSTed to response_urls. */
  readonly responses: { path: string; body: Record<string, unknown> }[] = [];

  /** Answers `times` calls of a Web API method with `reply` (a fixture by default: `{ ok: true }`). */
  method(name: string, reply: object = { ok: true }, times = 1): this {
    nock('https://slack.com')
      .post(`/api/${name}`)
      .times(times)
      .reply(200, (_uri, body) => {
        this.calls.push({ method: name, args: Object.fromEntries(new URLSearchParams(String(body))) });
        return reply;
      });
    return this;
  }

  /** The files upload v2 flow: upload URL, the upload itself, and the share with its blocks. */
  uploadFlow(times = 1, completion: object = fixture('files-complete-upload-external.json')): this {
    const target = fixture<{ upload_url: string }>('files-get-upload-url-external.json');
    const url = new URL(target.upload_url);
    this.method('files.getUploadURLExternal', target, times);
    nock(url.origin)
      .post(url.pathname)
      .times(times)
      .reply(200, (_uri, body) => {
        this.uploads.push(Buffer.from(String(body), 'hex'));
        return 'OK - 1024';
      });
    this.method('files.completeUploadExternal', completion, times);
    return this;
  }

  /** Answers `times` posts to any response_url. */
  responseUrls(times = 1): this {
    nock('https://hooks.slack.com')
      .post(/.*/)
      .times(times)
      .reply(200, (uri, body) => {
        this.responses.push({ path: uri, body: body as Record<string, unknown> });
        return 'ok';
      });
    return this;
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The blocks of a Web API call (sent as a JSON string in the form). */
  static blocks(call: SlackCall | undefined): { type: string; [key: string]: unknown }[] {
    return JSON.parse(call?.args.blocks ?? '[]');
  }

  /** Waits until Slack has received what the test expects (the app works on after acknowledging). */
  async until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('Slack did not receive what was expected in time');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** A PNG of exactly the size the core asked for, a different colour per call, so grids are real images. */
export function sizedPngModel(modelId = 'placeholder'): ImageModel & { calls: unknown[] } {
  return scriptedModel(async (options, callNumber): Promise<GeneratedImage[]> => {
    const bytes = await sharp({
      create: {
        width: options.size.width,
        height: options.size.height,
        channels: 3,
        background: { r: (callNumber * 70) % 256, g: 120, b: 200 },
      },
    })
      .png({ compressionLevel: 1 })
      .toBuffer();
    return Array.from({ length: options.n }, () => ({
      bytes: new Uint8Array(bytes),
      mediaType: 'image/png',
    }));
  }, modelId);
}

/** What a delivery got back: the acknowledgement's body (undefined when empty). */
export type Acknowledgement = Record<string, unknown> | string | undefined;

/** One way into the app: the same payloads over HTTP or Socket Mode. */
export interface SlackTransport {
  readonly mode: 'http' | 'socket';
  readonly services: Services;
  command(fields: Record<string, string>, options?: { retry?: number }): Promise<Acknowledgement>;
  action(payload: Record<string, unknown>, options?: { retry?: number }): Promise<Acknowledgement>;
  event(body: Record<string, unknown>, options?: { retry?: number }): Promise<Acknowledgement>;
  close(): Promise<void>;
}

/** Headers exactly as Slack signs a request. */
export function signedHeaders(
  body: string,
  contentType: string,
  options: { timestamp?: number; secret?: string } = {},
): Record<string, string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signSlackRequest(options.secret ?? signingSecret, timestamp, body),
  };
}

/** The running server (listening on an ephemeral port) with the Slack app in HTTP mode. */
export class HttpTransport implements SlackTransport {
  readonly mode = 'http';

  private constructor(
    readonly testApp: TestApp,
    readonly baseUrl: string,
  ) {}

  static async start(
    environment: Record<string, string> = {},
    models: readonly ImageModel[] = [sizedPngModel()],
    overrides: Omit<ServiceOverrides, 'models'> = {},
  ): Promise<HttpTransport> {
    const testApp = await createTestApp({ ...httpEnvironment, ...environment }, { ...overrides, models });
    const baseUrl = await testApp.app.listen({ host: '127.0.0.1', port: 0 });
    return new HttpTransport(testApp, baseUrl);
  }

  get services(): Services {
    return this.testApp.services;
  }

  /** POSTs a body to /slack/events with the given headers; returns status and parsed body. */
  async post(body: string, headers: Record<string, string>) {
    const response = await fetch(`${this.baseUrl}/slack/events`, { method: 'POST', headers, body });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
    return {
      status: response.status,
      body: (text && isJson ? JSON.parse(text) : text || undefined) as Acknowledgement,
    };
  }

  async #send(body: string, contentType: string, retry: number | undefined): Promise<Acknowledgement> {
    const headers = signedHeaders(body, contentType);
    if (retry !== undefined) {
      headers['x-slack-retry-num'] = String(retry);
      headers['x-slack-retry-reason'] = 'http_timeout';
    }
    const response = await this.post(body, headers);
    if (response.status !== 200) throw new Error(`Slack route answered ${response.status}`);
    return response.body;
  }

  command(fields: Record<string, string>, options: { retry?: number } = {}) {
    return this.#send(
      new URLSearchParams(fields).toString(),
      'application/x-www-form-urlencoded',
      options.retry,
    );
  }

  action(payload: Record<string, unknown>, options: { retry?: number } = {}) {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.#send(body, 'application/x-www-form-urlencoded', options.retry);
  }

  event(body: Record<string, unknown>, options: { retry?: number } = {}) {
    return this.#send(JSON.stringify(body), 'application/json', options.retry);
  }

  close(): Promise<void> {
    return this.testApp.close();
  }
}

/** A local WebSocket server that says hello to the one Socket Mode connection it expects. */
export interface SocketModeServer {
  server: WebSocketServer;
  /** What `apps.connections.open` answers with. */
  url: string;
  connected: Promise<WebSocket>;
}

export async function startSocketModeServer(): Promise<SocketModeServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const connected = new Promise<WebSocket>((resolve) =>
    server.once('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'stand-in' } }));
      resolve(socket);
    }),
  );
  return { server, url: `ws://127.0.0.1:${port}/link`, connected };
}

/**
 * Socket Mode through a local WebSocket server standing in for Slack: `apps.connections.open` (nocked)
 * hands Bolt's SocketModeReceiver its URL, the server says hello, sends envelopes and reads the acks. Given a
 * `socket`, the caller's own Web API stand-in answers `apps.connections.open` and `auth.test` instead.
 */
export class SocketTransport implements SlackTransport {
  readonly mode = 'socket';
  #envelopes = 0;
  readonly #pending = new Map<string, (payload: Acknowledgement) => void>();

  private constructor(
    readonly services: Services,
    readonly app: SlackApp,
    readonly server: WebSocketServer,
    readonly socket: WebSocket,
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id: string; payload?: Record<string, unknown> };
      const payload =
        message.payload && Object.keys(message.payload).length > 0 ? message.payload : undefined;
      this.#pending.get(message.envelope_id)?.(payload);
      this.#pending.delete(message.envelope_id);
    });
  }

  static async start(
    environment: Record<string, string> = {},
    models: readonly ImageModel[] = [sizedPngModel()],
    overrides: Omit<ServiceOverrides, 'models'> = {},
    socket?: SocketModeServer,
  ): Promise<SocketTransport> {
    const { server, url, connected } = socket ?? (await startSocketModeServer());
    if (!socket) {
      nock('https://slack.com')
        .post('/api/apps.connections.open')
        .reply(200, { ...fixture('apps-connections-open.json'), url });
      nock('https://slack.com').post('/api/auth.test').reply(200, fixture('auth-test.json'));
    }

    const services = await createTestServices(
      { ...socketEnvironment, ...environment },
      { ...overrides, models },
    );
    const settings = services.config.slack;
    if (!settings) throw new Error('the Slack settings are missing');
    const app = createSlackApp(services, settings);
    await app.start();
    return new SocketTransport(services, app, server, await connected);
  }

  #send(
    type: 'slash_commands' | 'interactive' | 'events_api',
    payload: Record<string, unknown>,
    retry: number | undefined,
  ): Promise<Acknowledgement> {
    this.#envelopes++;
    const envelopeId = `envelope-${this.#envelopes}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${envelopeId}`)), 3_000);
      this.#pending.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      this.socket.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          ...(retry === undefined ? {} : { retry_attempt: retry, retry_reason: 'timeout' }),
        }),
      );
    });
  }

  command(fields: Record<string, string>, options: { retry?: number } = {}) {
    return this.#send('slash_commands', fields, options.retry);
  }

  action(payload: Record<string, unknown>, options: { retry?: number } = {}) {
    return this.#send('interactive', payload, options.retry);
  }

  event(body: Record<string, unknown>, options: { retry?: number } = {}) {
    return this.#send('events_api', body, options.retry);
  }

  async close(): Promise<void> {
    await this.app.stop();
    await new Promise((resolve) => this.server.close(resolve));
    await this.services.close();
  }
}
