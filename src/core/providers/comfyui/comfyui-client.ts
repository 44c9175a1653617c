import type { Logger } from 'pino';
import sharp, { type Metadata } from 'sharp';
import type { GeneratedImage, InputImage } from '../image-model.ts';
import { ProviderCallError } from '../provider-error.ts';
import {
  type ComfyUIHistoryEntry,
  type ComfyUIImageReference,
  historyEntrySchema,
  historySchema,
  nodeProblems,
  promptRejectionSchema,
  promptResponseSchema,
  queueHolds,
  queueSchema,
  uploadResponseSchema,
} from './comfyui-api.ts';
import { httpFailure, malformed, workflowRejected } from './comfyui-error.ts';
import type { ComfyUIGraph } from './comfyui-workflow.ts';

const provider = 'comfyui';
const cancelTimeoutMs = 10_000;
const defaultMaxImageBytes = 50 * 1024 * 1024;
const sharpMediaTypes: Record<string, GeneratedImage['mediaType']> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** The HTTP side of one ComfyUI server: every request carries `headers` (and the key, when set). */
export function comfyuiServer(settings: {
  baseUrl: string;
  apiKey?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  fetch?: typeof fetch | undefined;
  maxImageBytes?: number | undefined;
  logger?: Logger | undefined;
}) {
  const base = new URL(settings.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new Error(`ComfyUI base_url must be http or https, not ${base.protocol}`);
  }
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  const doFetch = settings.fetch ?? fetch;
  const maxImageBytes = settings.maxImageBytes ?? defaultMaxImageBytes;
  const headers: Record<string, string> = {
    ...settings.headers,
    ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
  };
  const url = (path: string) => new URL(path, base);

  const send = (path: string | URL, signal: AbortSignal, body?: unknown) =>
    doFetch(typeof path === 'string' ? url(path) : path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal,
    });

  const failed = async (response: Response, what: string) => {
    await response.body?.cancel().catch(() => undefined);
    return httpFailure(response.status, what, response.headers.get('retry-after'));
  };

  async function getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const response = await send(path, signal);
    if (!response.ok) throw await failed(response, `GET /${path}`);
    return response.json();
  }

  /** The prompt's history entry once it has finished; undefined while it is queued or running. */
  async function history(promptId: string, signal: AbortSignal): Promise<ComfyUIHistoryEntry | undefined> {
    const body = historySchema.safeParse(await getJson(`history/${encodeURIComponent(promptId)}`, signal));
    if (!body.success) throw malformed(`GET /history/${promptId} is not an object of prompts`);
    const raw = body.data[promptId];
    if (raw === undefined) return undefined;
    const entry = historyEntrySchema.safeParse(raw);
    if (!entry.success) {
      throw malformed(`GET /history/${promptId} is not what ComfyUI's API promises: ${entry.error.message}`);
    }
    return entry.data;
  }

  return {
    headers,
    getJson,

    socketUrl(clientId: string): URL {
      const socketUrl = url('ws');
      socketUrl.searchParams.set('clientId', clientId);
      socketUrl.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
      return socketUrl;
    },

    /** `POST /prompt`; a 400 names the nodes ComfyUI refused. */
    async queuePrompt(
      graph: ComfyUIGraph,
      clientId: string,
      file: string,
      signal: AbortSignal,
    ): Promise<string> {
      const response = await send('prompt', signal, { prompt: graph, client_id: clientId });
      if (response.status === 400) {
        const rejection = promptRejectionSchema.safeParse(await response.json().catch(() => undefined));
        const nodes = rejection.success ? nodeProblems(rejection.data) : [];
        const error = rejection.success ? rejection.data.error : undefined;
        const summary = typeof error === 'string' ? error : error?.message;
        for (const node of nodes) {
          settings.logger?.warn(
            { workflow: file, node: node.nodeId, classType: node.classType, problems: node.problems },
            `ComfyUI refused node ${node.nodeId} (${node.classType ?? 'unknown class'}) of the workflow`,
          );
        }
        throw workflowRejected(file, summary, nodes);
      }
      if (!response.ok) throw await failed(response, 'POST /prompt');
      const parsed = promptResponseSchema.safeParse(await response.json());
      if (!parsed.success)
        throw malformed(`POST /prompt answered without a prompt_id: ${parsed.error.message}`);
      const dropped = promptRejectionSchema.safeParse({ node_errors: parsed.data.node_errors });
      for (const node of dropped.success ? nodeProblems(dropped.data) : []) {
        // ComfyUI runs the outputs that validated and skips the rest; the operator should hear of it.
        settings.logger?.warn(
          { workflow: file, node: node.nodeId, classType: node.classType, problems: node.problems },
          `ComfyUI skipped node ${node.nodeId} (${node.classType ?? 'unknown class'}) of the workflow`,
        );
      }
      return parsed.data.prompt_id;
    },

    history,

    /**
     * `POST /upload/image` (multipart: the file as `image`, `type: input`): stores an init image in the
     * server's input folder and returns the name a LoadImage node takes (`subfolder/name`).
     */
    async uploadImage(image: InputImage, filename: string, signal: AbortSignal): Promise<string> {
      const form = new FormData();
      form.append('image', new Blob([image.bytes], { type: image.mediaType }), filename);
      form.append('type', 'input');
      const response = await doFetch(url('upload/image'), { method: 'POST', headers, body: form, signal });
      if (!response.ok) throw await failed(response, 'POST /upload/image');
      const parsed = uploadResponseSchema.safeParse(await response.json());
      if (!parsed.success)
        throw malformed(`POST /upload/image answered without a name: ${parsed.error.message}`);
      const { name, subfolder } = parsed.data;
      return subfolder ? `${subfolder}/${name}` : name;
    },

    /** Whether the prompt is finished, running or waiting on this server (a restart forgets them all). */
    async knows(promptId: string, signal: AbortSignal): Promise<boolean> {
      if (await history(promptId, signal)) return true;
      const queue = queueSchema.safeParse(await getJson('queue', signal));
      if (!queue.success) throw malformed('GET /queue is not what ComfyUI sends');
      return queueHolds(queue.data.queue_running, promptId) || queueHolds(queue.data.queue_pending, promptId);
    },

    /** One saved image from `GET /view`, checked to be a PNG, JPEG or WebP. */
    async view(reference: ComfyUIImageReference, signal: AbortSignal): Promise<GeneratedImage> {
      const viewUrl = url('view');
      viewUrl.searchParams.set('filename', reference.filename);
      viewUrl.searchParams.set('subfolder', reference.subfolder);
      viewUrl.searchParams.set('type', reference.type);
      const response = await send(viewUrl, signal);
      if (response.status === 404) {
        await response.body?.cancel().catch(() => undefined);
        throw malformed(`ComfyUI lists ${reference.filename} but /view has no such file`);
      }
      if (!response.ok) throw await failed(response, 'GET /view');
      if (Number(response.headers.get('content-length') ?? 0) > maxImageBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw malformed(`${reference.filename} is over the ${maxImageBytes}-byte limit`);
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.byteLength > maxImageBytes)
        throw malformed(`${reference.filename} is over the ${maxImageBytes}-byte limit`);
      return identify(bytes, reference.filename);
    },

    /**
     * Best effort, never awaited: take the prompt off the queue, and interrupt it only if it is the one
     * running. `/interrupt` with a `prompt_id` stops only that prompt on current ComfyUI, but older
     * versions ignore the body and stop whatever runs, so the queue is checked first.
     */
    cancelInBackground(promptId: string, log: Logger | undefined): void {
      const signal = AbortSignal.timeout(cancelTimeoutMs);
      const cancel = async () => {
        const removed = await send('queue', signal, { delete: [promptId] });
        await removed.body?.cancel().catch(() => undefined);
        const queue = queueSchema.safeParse(await getJson('queue', signal));
        if (queue.success && !queueHolds(queue.data.queue_running, promptId)) return 'dequeued';
        const interrupted = await send('interrupt', signal, { prompt_id: promptId });
        await interrupted.body?.cancel().catch(() => undefined);
        if (!interrupted.ok) throw httpFailure(interrupted.status, 'POST /interrupt', null);
        return 'interrupted';
      };
      cancel().then(
        (how) => log?.info({ promptId, how }, 'ComfyUI prompt cancelled'),
        (error: unknown) => log?.warn({ err: error, promptId }, 'cancelling a ComfyUI prompt failed'),
      );
    },
  };
}

async function identify(bytes: Uint8Array, filename: string): Promise<GeneratedImage> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw new ProviderCallError('malformed', `${filename} from ComfyUI does not decode as an image`, {
      provider,
      cause: error,
    });
  }
  const mediaType = sharpMediaTypes[metadata.format ?? ''];
  if (!mediaType || !metadata.width || !metadata.height) {
    throw malformed(
      `${filename} from ComfyUI is ${metadata.format ?? 'no known format'}, not PNG, JPEG or WebP`,
    );
  }
  return { bytes, mediaType, dimensions: { width: metadata.width, height: metadata.height } };
}
