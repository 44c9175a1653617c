/**
 * Helpers for the Discord bot's tests: signed requests, interaction payloads built from recorded fixtures,
 * Discord's REST API stood in by nock (every call explicit; anything unexpected fails the test), multipart
 * parsing, and a way to feed gateway dispatches into a real discord.js client without a socket.
 */

import { generateKeyPairSync, sign } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIButtonComponent,
  type APIChatInputApplicationCommandInteraction,
  type APIEmbed,
  type APIInteraction,
  type APIInteractionResponseCallbackData,
  type APIMessageComponentButtonInteraction,
  type APIUser,
  ApplicationCommandOptionType,
  type Client,
  ComponentType,
  InteractionContextType,
  Status,
  WebSocketShard,
} from 'discord.js';
import nock from 'nock';

const fixturesFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__');

/** The ids the fixtures use. */
export const ids = {
  application: '1300000000000000001',
  guild: '1300000000000000002',
  channel: '1300000000000000003',
  ada: '1300000000000000010',
  ben: '1300000000000000011',
  artistRole: '1300000000000000020',
  message: '1300000000000000092',
} as const;

/** A recorded payload from `__fixtures__`, parsed afresh each time. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(fixturesFolder, name), 'utf8')) as T;
}

/** An Ed25519 key pair like the developer portal's: the public key as 64 hex characters. */
export function interactionKeys(): { publicKeyHex: string; sign(timestamp: string, body: string): string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    publicKeyHex: der.subarray(der.length - 32).toString('hex'),
    sign: (timestamp, body) => sign(null, Buffer.from(timestamp + body), privateKey).toString('hex'),
  };
}

let sequence = 0;
/** A fresh interaction id and token, as every real interaction has. */
function freshIdentity(): { id: string; token: string } {
  sequence += 1;
  return {
    id: String(1_400_000_000_000_000_000n + BigInt(sequence)),
    token: `test-token-${process.pid}-${sequence}`,
  };
}

type OptionValue = string | number | boolean;

/** Who acts, and where. */
export interface Actor {
  /** Discord user id; Ada by default. */
  userId?: string;
  /** In a DM instead of the fixture server. */
  dm?: boolean;
  roles?: string[];
  permissions?: string;
  /** The channel's upload limit. */
  attachmentSizeLimit?: number;
}

function applyActor<T extends APIInteraction>(payload: T, actor: Actor): T {
  const userId = actor.userId ?? ids.ada;
  const user: APIUser = {
    ...fixture<{ user: APIUser }>('command-usage-dm.json').user,
    id: userId,
    username: `user${userId.slice(-2)}`,
  };
  if (actor.dm) {
    const dm = fixture<APIInteraction>('command-usage-dm.json');
    delete payload.member;
    delete payload.guild;
    delete payload.guild_id;
    delete payload.guild_locale;
    if (dm.channel) payload.channel = dm.channel;
    if (dm.channel_id) payload.channel_id = dm.channel_id;
    payload.context = InteractionContextType.BotDM;
    payload.user = user;
    payload.authorizing_integration_owners = { 1: userId };
  } else if (payload.member) {
    payload.member.user = user;
    if (actor.roles) payload.member.roles = actor.roles;
    if (actor.permissions) payload.member.permissions = actor.permissions;
  }
  if (actor.attachmentSizeLimit !== undefined) payload.attachment_size_limit = actor.attachmentSizeLimit;
  return payload;
}

function commandOption(name: string, value: OptionValue): APIApplicationCommandInteractionDataBasicOption {
  if (typeof value === 'string') return { name, type: ApplicationCommandOptionType.String, value };
  if (typeof value === 'boolean') return { name, type: ApplicationCommandOptionType.Boolean, value };
  return { name, type: ApplicationCommandOptionType.Integer, value };
}

/** A slash command as Discord delivers it. */
export function slashCommand(
  name: string,
  options: Record<string, OptionValue>,
  actor: Actor = {},
): APIInteraction {
  const payload = fixture<APIChatInputApplicationCommandInteraction>('command-imagine.json');
  Object.assign(payload, freshIdentity());
  const entries = Object.entries(options);
  payload.data = {
    ...payload.data,
    name,
    ...(entries.length > 0
      ? { options: entries.map(([optionName, value]) => commandOption(optionName, value)) }
      : {}),
  };
  if (entries.length === 0) delete payload.data.options;
  return applyActor(payload, actor);
}

/** An autocomplete request while `focused` is being typed. */
export function autocomplete(
  name: string,
  options: Record<string, string>,
  focused: { name: string; value: string },
  actor: Actor = {},
): APIInteraction {
  const payload = fixture<APIApplicationCommandAutocompleteInteraction>('autocomplete-imagine-model.json');
  Object.assign(payload, freshIdentity());
  payload.data = {
    ...payload.data,
    name,
    options: [
      ...Object.entries(options).map(([optionName, value]) => commandOption(optionName, value)),
      { name: focused.name, type: ApplicationCommandOptionType.String, value: focused.value, focused: true },
    ],
  };
  return applyActor(payload, actor);
}

/** A button press on a message the bot posted for `requesterId`. */
export function buttonPress(customId: string, actor: Actor & { requesterId?: string } = {}): APIInteraction {
  const payload = fixture<APIMessageComponentButtonInteraction>('component-button.json');
  Object.assign(payload, freshIdentity());
  payload.data = { ...payload.data, custom_id: customId };
  const metadata = payload.message.interaction_metadata;
  if (metadata) metadata.user = { ...metadata.user, id: actor.requesterId ?? ids.ada };
  return applyActor(payload, { userId: ids.ben, ...actor });
}

/** A file part of a multipart body. */
export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** One request the bot made to Discord's API. */
export interface CapturedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The JSON body, or `payload_json` of a multipart body (a message, for every webhook call). */
  json: APIInteractionResponseCallbackData;
  files: MultipartFile[];
}

/** The first embed of a captured message. */
export function embedOf(request: CapturedRequest): APIEmbed {
  const embed = request.json.embeds?.[0];
  if (!embed) throw new Error('the message has no embed');
  return embed;
}

/** The embed's fields by name. */
export function fieldsOf(request: CapturedRequest): Record<string, string> {
  return Object.fromEntries((embedOf(request).fields ?? []).map((field) => [field.name, field.value]));
}

/** Every button of a message, row by row. */
export function buttonsOf(message: APIInteractionResponseCallbackData): APIButtonComponent[] {
  return (message.components ?? []).flatMap((row) =>
    'components' in row
      ? row.components.filter((item): item is APIButtonComponent => item.type === ComponentType.Button)
      : [],
  );
}

/** The custom id of the button with this label. */
export function customIdOf(message: APIInteractionResponseCallbackData, label: string): string {
  const button = buttonsOf(message).find((item) => 'label' in item && item.label === label);
  if (!button || !('custom_id' in button)) throw new Error(`no button labelled ${label}`);
  return button.custom_id;
}

/** Reads a `multipart/form-data` body (the webhook edits carry `payload_json` and `files[n]`). */
export function parseMultipart(
  body: Buffer,
  contentType: string,
): { fields: Map<string, string>; files: MultipartFile[] } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${marker}`);
  const fields = new Map<string, string>();
  const files: MultipartFile[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, partStart);
    if (next === -1) break;
    // Each part: CRLF, headers, CRLF CRLF, content, CRLF before the next delimiter.
    const part = body.subarray(partStart + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (filename === undefined) {
      fields.set(name, content.toString('utf8'));
    } else {
      files.push({
        field: name,
        filename,
        contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '',
        bytes: Buffer.from(content),
      });
    }
    start = next;
  }
  return { fields, files };
}

/** nock hands a body it cannot show as UTF-8 over as hex. */
function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body !== 'string') return Buffer.from(JSON.stringify(body ?? ''));
  return /^[0-9a-f]+$/i.test(body) && body.length % 2 === 0 && !body.startsWith('{') && body.length > 0
    ? Buffer.from(body, 'hex')
    : Buffer.from(body, 'utf8');
}

const discordOrigin = 'https://discord.com';
const apiPrefix = '/api/v10';

/**
 * Discord's REST API, one expected call at a time: `expect` registers an interceptor and resolves with
 * the captured request once the bot makes it. A call nobody expected fails the test (network guard).
 */
export class DiscordApiStub {
  expect(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
    route: string,
    reply: { status?: number; body?: unknown } = {},
    timeoutMs = 5000,
  ): Promise<CapturedRequest> {
    const status = reply.status ?? (method === 'DELETE' || route.endsWith('/callback') ? 204 : 200);
    const body = reply.body ?? (status === 204 ? undefined : fixture('message-created.json'));
    const captured = new Promise<CapturedRequest>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Discord API call ${method} ${route} did not happen within ${timeoutMs} ms`)),
        timeoutMs,
      );
      nock(discordOrigin)
        .intercept(`${apiPrefix}${route}`, method)
        .reply(function (uri, requestBody) {
          clearTimeout(timer);
          const headers = Object.fromEntries(
            Object.entries(this.req.headers).map(([key, value]) => [key.toLowerCase(), String(value)]),
          );
          const contentType = headers['content-type'] ?? '';
          const raw = bodyBytes(requestBody);
          let json: APIInteractionResponseCallbackData = {};
          let files: MultipartFile[] = [];
          if (contentType.startsWith('multipart/form-data')) {
            const parsed = parseMultipart(raw, contentType);
            json = JSON.parse(parsed.fields.get('payload_json') ?? '{}');
            files = parsed.files;
          } else if (raw.length > 0) {
            json = JSON.parse(raw.toString('utf8'));
          }
          resolve({ method, path: uri, headers, json, files });
          return status === 204 ? [204] : [status, body as nock.Body];
        });
    });
    // A test that fails before awaiting this must not also report an unhandled rejection.
    captured.catch(() => undefined);
    return captured;
  }
}

/** The webhook routes a reply to interaction `token` uses. */
export const webhook = {
  // The REST client escapes the @ of @original.
  original: (token: string) => `/webhooks/${ids.application}/${token}/messages/%40original`,
  followUp: (token: string) => `/webhooks/${ids.application}/${token}`,
  callback: (interaction: { id: string; token: string }) =>
    `/interactions/${interaction.id}/${interaction.token}/callback`,
};

interface GatewaySeam {
  _ws: (EventEmitter & { destroy(): Promise<void> }) | null;
  attachEvents(): void;
  shards: Map<number, WebSocketShard>;
  status: Status;
}

let gatewaySequence = 0;

/**
 * Feeds one gateway dispatch into a real client exactly where a socket's message would enter: the
 * `@discordjs/ws` manager's `dispatch` event, so discord.js's own handling (raw event, the manager's
 * per-event emit, packet handlers and caches) runs as in production, without a connection.
 */
export function dispatchToGateway(client: Client, event: string, data: unknown): void {
  const manager = client.ws as unknown as GatewaySeam;
  if (!manager._ws) {
    manager._ws = Object.assign(new EventEmitter(), { destroy: async () => {} });
    manager.attachEvents();
    const Shard = WebSocketShard as unknown as new (manager: unknown, id: number) => WebSocketShard;
    const shard = new Shard(manager, 0);
    shard.status = Status.Ready;
    manager.shards.set(0, shard);
    manager.status = Status.Ready;
  }
  gatewaySequence += 1;
  manager._ws.emit('dispatch', { data: { op: 0, s: gatewaySequence, t: event, d: data }, shardId: 0 });
}

/** Waits until `check` passes (for background work the test cannot await directly). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
