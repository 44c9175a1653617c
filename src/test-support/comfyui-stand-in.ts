/**
 * A ComfyUI on 127.0.0.1 that speaks its HTTP and websocket API (server.py): `POST /prompt`,
 * `POST /upload/image`, `GET /history/{id}`, `GET /view`, `GET|POST /queue`, `POST /interrupt`,
 * `GET /system_stats` and `/ws?clientId=`. Answers come from the recorded responses in the ComfyUI provider's `__fixtures__`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { type WebSocket, WebSocketServer } from 'ws';

const fixturesDirectory = path.resolve(import.meta.dirname, '../core/providers/comfyui/__fixtures__');
/** The prompt id the recorded responses carry; each queued job's own id replaces it. */
export const recordedPromptId = '9f2b6a4e-3c1d-4b8e-a6f0-2d7c5e8b1a34';

/** A recorded ComfyUI response, with the recorded prompt id replaced by `promptId` when given. */
export function comfyuiFixture(name: string, promptId?: string): unknown {
  const text = readFileSync(path.join(fixturesDirectory, name), 'utf8');
  return JSON.parse(promptId === undefined ? text : text.replaceAll(recordedPromptId, promptId));
}

/** One request the stand-in received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A prompt the stand-in queued: the graph as the client sent it. */
export interface StandInJob {
  promptId: string;
  clientId: string | undefined;
  graph: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  state: 'pending' | 'running' | 'finished' | 'interrupted' | 'deleted';
}

/** A file stored by `POST /upload/image`, under the name the stand-in answered. */
export interface StandInUpload {
  name: string;
  subfolder: string;
  type: string;
  /** The part's filename and content type, as the client sent them. */
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface ComfyUIStandIn {
  baseUrl: string;
  requests: RecordedRequest[];
  jobs: StandInJob[];
  uploads: StandInUpload[];
  /** Sends one websocket message to a client, as ComfyUI's `send_sync` does. */
  send(clientId: string | undefined, message: unknown): void;
  /**
   * Ends a job as ComfyUI does: the recorded websocket messages (`messages`), with the history entry
   * recorded just before the last one (ComfyUI stores it before its final `executing` message), and a
   * PNG of the graph's latent size for each image of the batch.
   */
  finish(job: StandInJob, fixtures?: { messages?: string; history?: string }): Promise<void>;
  /** Closes every websocket, as a restarting proxy would. */
  dropSockets(): void;
  /** Resolves with the first request (past or future) with this method and path. */
  request(method: string, path: string): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export interface ComfyUIStandInOptions {
  /** Whether `/ws` upgrades (default true); false answers the upgrade with a 404, as a plain proxy does. */
  websocket?: boolean;
  /** What happens once a prompt is queued; by default it finishes from the recorded responses at once. */
  onQueued?: (job: StandInJob, standIn: ComfyUIStandIn) => void | Promise<void>;
  /** Replaces the answer to `POST /prompt` (a recorded 400, a 503). */
  promptReply?: { status: number; body: unknown };
  /**
   * Replaces the answer to `GET /history/{id}`; `poll` counts the reads of that prompt from 1, and
   * `recorded` is the entry the stand-in holds for it (undefined until the job finished).
   */
  history?: (promptId: string, poll: number, recorded: unknown) => unknown;
  /** How many of the first `GET /history/{id}` reads answer 503, as a restarting proxy does. */
  historyFailures?: number;
  /** Replaces the answer to `POST /upload/image` (ComfyUI answers a bad upload 400 with an empty body). */
  uploadReply?: { status: number; body?: unknown };
}

/** Starts the stand-in on an ephemeral port. */
export async function startComfyUIStandIn(options: ComfyUIStandInOptions = {}): Promise<ComfyUIStandIn> {
  const requests: RecordedRequest[] = [];
  const jobs: StandInJob[] = [];
  const uploads: StandInUpload[] = [];
  const history = new Map<string, unknown>();
  const images = new Map<string, Buffer>();
  const sockets = new Map<string, WebSocket>();
  const polls = new Map<string, number>();
  const waiters: { method: string; path: string; resolve: (request: RecordedRequest) => void }[] = [];
  const websocketServer = new WebSocketServer({ noServer: true });

  const server = createServer((request, response) => {
    readBody(request).then(
      (body) =>
        request.url?.startsWith('/upload/image')
          ? upload(request, response, body).catch(() => response.destroy())
          : handle(request, response, body.toString('utf8')),
      () => response.destroy(),
    );
  });

  const record = (recorded: RecordedRequest) => {
    requests.push(recorded);
    for (const waiter of waiters.filter((w) => w.method === recorded.method && w.path === recorded.path)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(recorded);
    }
  };

  const standIn: ComfyUIStandIn = {
    baseUrl: '',
    requests,
    jobs,
    uploads,
    send(clientId, message) {
      const socket = clientId === undefined ? undefined : sockets.get(clientId);
      socket?.send(JSON.stringify(message));
    },
    async finish(job, fixtures = {}) {
      const messages = comfyuiFixture(
        fixtures.messages ?? 'websocket-messages.json',
        job.promptId,
      ) as unknown[];
      const entry = await historyEntryFor(job, fixtures.history ?? 'history-success.json');
      for (const [index, message] of messages.entries()) {
        if (index === messages.length - 1) {
          history.set(job.promptId, entry);
          job.state = 'finished';
        }
        standIn.send(job.clientId, message);
      }
      if (messages.length === 0) {
        history.set(job.promptId, entry);
        job.state = 'finished';
      }
    },
    dropSockets() {
      for (const socket of sockets.values()) socket.terminate();
      sockets.clear();
    },
    request(method, requestPath) {
      const seen = requests.find((request) => request.method === method && request.path === requestPath);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ method, path: requestPath, resolve }));
    },
    close() {
      for (const socket of sockets.values()) socket.terminate();
      websocketServer.close();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };

  /** The recorded entry, with one saved PNG per image of the batch at the graph's latent size. */
  async function historyEntryFor(job: StandInJob, fixture: string): Promise<unknown> {
    const recorded = (comfyuiFixture(fixture, job.promptId) as Record<string, unknown>)[job.promptId] as {
      outputs: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }>;
    };
    const latent = Object.values(job.graph).find((node) => node.class_type.startsWith('Empty'))?.inputs ?? {};
    // An image-to-image graph renders at its LoadImage's size, a batch of RepeatLatentBatch's `amount`.
    const loaded = Object.values(job.graph).find((node) => node.class_type === 'LoadImage')?.inputs.image;
    const init = uploads.find(
      (file) => (file.subfolder ? `${file.subfolder}/${file.name}` : file.name) === loaded,
    );
    const initSize = init ? await sharp(init.bytes).metadata() : undefined;
    const repeat = Object.values(job.graph).find((node) => node.class_type === 'RepeatLatentBatch')?.inputs;
    const width = typeof latent.width === 'number' ? latent.width : (initSize?.width ?? 64);
    const height = typeof latent.height === 'number' ? latent.height : (initSize?.height ?? 64);
    const batch =
      typeof latent.batch_size === 'number'
        ? latent.batch_size
        : typeof repeat?.amount === 'number'
          ? repeat.amount
          : 1;
    for (const output of Object.values(recorded.outputs)) {
      const first = output.images?.[0];
      if (!first?.filename) continue;
      output.images = [];
      for (let index = 0; index < batch; index++) {
        const filename = first.filename.replace(
          '00001',
          String(jobs.indexOf(job) * 100 + index + 1).padStart(5, '0'),
        );
        output.images.push({ ...first, filename });
        images.set(`${first.type}/${first.subfolder}/${filename}`, await png(width, height, index));
      }
    }
    return recorded;
  }

  function handle(request: IncomingMessage, response: ServerResponse, rawBody: string) {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
    const method = request.method ?? 'GET';
    record({ method, path: url.pathname, query: url.searchParams, headers: request.headers, body });
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };

    if (method === 'POST' && url.pathname === '/prompt') {
      if (options.promptReply) return reply(options.promptReply.status, options.promptReply.body);
      const { prompt, client_id: clientId } = body as { prompt: StandInJob['graph']; client_id?: string };
      const promptId = jobs.length === 0 ? recordedPromptId : randomUUID();
      const job: StandInJob = { promptId, clientId, graph: prompt, state: 'running' };
      jobs.push(job);
      const accepted = comfyuiFixture('prompt-response.json', promptId) as Record<string, unknown>;
      reply(200, { ...accepted, number: jobs.length });
      // ComfyUI runs the prompt on its own thread once it has answered.
      setImmediate(() => void (options.onQueued ?? ((queued) => standIn.finish(queued)))(job, standIn));
      return;
    }
    if (method === 'GET' && url.pathname.startsWith('/history/')) {
      const promptId = decodeURIComponent(url.pathname.slice('/history/'.length));
      const poll = (polls.get(promptId) ?? 0) + 1;
      polls.set(promptId, poll);
      if (poll <= (options.historyFailures ?? 0)) return reply(503, { error: 'Service Unavailable' });
      const entry = history.get(promptId);
      if (options.history) return reply(200, options.history(promptId, poll, entry));
      return reply(200, entry === undefined ? {} : { [promptId]: entry });
    }
    if (method === 'GET' && url.pathname === '/view') {
      const key = `${url.searchParams.get('type')}/${url.searchParams.get('subfolder')}/${url.searchParams.get('filename')}`;
      const bytes = images.get(key);
      if (!bytes) {
        response.writeHead(404);
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.byteLength });
      response.end(bytes);
      return;
    }
    if (method === 'GET' && url.pathname === '/queue') {
      const item = (job: StandInJob, index: number) => [
        index,
        job.promptId,
        job.graph,
        { client_id: job.clientId },
        [],
      ];
      return reply(200, {
        queue_running: jobs.filter((job) => job.state === 'running').map(item),
        queue_pending: jobs.filter((job) => job.state === 'pending').map(item),
      });
    }
    if (method === 'POST' && url.pathname === '/queue') {
      const deleted = (body as { delete?: string[] } | undefined)?.delete ?? [];
      for (const job of jobs)
        if (job.state === 'pending' && deleted.includes(job.promptId)) job.state = 'deleted';
      response.writeHead(200);
      response.end();
      return;
    }
    if (method === 'POST' && url.pathname === '/interrupt') {
      const promptId = (body as { prompt_id?: string } | undefined)?.prompt_id;
      for (const job of jobs.filter((candidate) => candidate.state === 'running')) {
        if (promptId !== undefined && job.promptId !== promptId) continue;
        job.state = 'interrupted';
        standIn.send(job.clientId, {
          type: 'execution_interrupted',
          data: { prompt_id: job.promptId, node_id: '3', node_type: 'KSampler', executed: [] },
        });
      }
      response.writeHead(200);
      response.end();
      return;
    }
    if (method === 'GET' && url.pathname === '/system_stats') {
      return reply(200, comfyuiFixture('system-stats.json'));
    }
    response.writeHead(404);
    response.end();
  }

  /**
   * `POST /upload/image` as server.py's image_upload: the multipart `image` file stored in `type` (default
   * input) under its filename, renamed `name (1).png` when that is taken and `overwrite` is not set.
   */
  async function upload(request: IncomingMessage, response: ServerResponse, rawBody: Buffer) {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const form = await new Request(url, {
      method: 'POST',
      headers: { 'content-type': String(request.headers['content-type']) },
      body: rawBody,
    }).formData();
    record({
      method: request.method ?? 'POST',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body: form,
    });
    const reply = (status: number, value?: unknown) => {
      response.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json' });
      response.end(value === undefined ? undefined : JSON.stringify(value));
    };
    if (options.uploadReply) return reply(options.uploadReply.status, options.uploadReply.body);
    const file = form.get('image');
    if (!(file instanceof File) || file.name === '') return reply(400);
    const type = String(form.get('type') ?? 'input');
    const subfolder = String(form.get('subfolder') ?? '');
    let name = file.name;
    const taken = (candidate: string) =>
      uploads.some(
        (stored) => stored.type === type && stored.subfolder === subfolder && stored.name === candidate,
      );
    if (form.get('overwrite') !== 'true') {
      const dot = file.name.lastIndexOf('.');
      for (let index = 1; taken(name); index++) {
        name = `${file.name.slice(0, dot)} (${index})${file.name.slice(dot)}`;
      }
    }
    uploads.push({
      name,
      subfolder,
      type,
      filename: file.name,
      contentType: file.type,
      bytes: Buffer.from(await file.arrayBuffer()),
    });
    reply(200, { name, subfolder, type });
  }

  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    record({
      method: 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body: undefined,
    });
    if (url.pathname !== '/ws' || options.websocket === false) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    websocketServer.handleUpgrade(request, socket, head, (client) => {
      const clientId = url.searchParams.get('clientId') || 'anonymous';
      sockets.set(clientId, client);
      client.on('close', () => {
        if (sockets.get(clientId) === client) sockets.delete(clientId);
      });
      client.send(
        JSON.stringify({
          type: 'status',
          data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId },
        }),
      );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** A small PNG of the given size, a different shade per batch index. */
function png(width: number, height: number, index: number): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 40 * index, g: 120, b: 200 } },
  })
    .png({ compressionLevel: 1 })
    .toBuffer();
}
