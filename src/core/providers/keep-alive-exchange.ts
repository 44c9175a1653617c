import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';

/** One HTTP exchange's answer, its body read whole as text. */
export interface HttpAnswer {
  status: number;
  /** A response header by its lower-case name. */
  header(name: string): string | undefined;
  text: string;
}

/** One request to send: the body, when present, is sent as it is. */
export interface HttpExchangeRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}

/** Sends one request and reads the whole answer; rejects on a connection error or the signal's abort. */
export type HttpExchange = (url: string, request: HttpExchangeRequest) => Promise<HttpAnswer>;

/**
 * Idle connections are closed after 4 s, before the 5 s after which uvicorn (A1111's and Forge's server)
 * closes them itself, so a request is not sent down a socket the server is closing (undici's default too).
 */
const idleSocketMs = 4000;
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: idleSocketMs }),
  'https:': new https.Agent({ keepAlive: true, timeout: idleSocketMs }),
};

/** Where a URL's requests go, as http.request takes it: parsed once per URL rather than once per call. */
interface Target {
  transport: typeof http | typeof https;
  options: http.RequestOptions;
  /** The Host header node would send (`host[:port]`, the port only when not the default). */
  host: string;
}

/** A model calls a handful of URLs (txt2img, progress, interrupt); the cap only bounds odd callers. */
const targets = new Map<string, Target>();
const mostTargets = 256;

function targetOf(url: string): Target {
  let target = targets.get(url);
  if (target !== undefined) return target;
  // What http.request would take from the URL itself, less the fields it never reads (href, hash,
  // search, pathname): the agent copies a request's options into a new object on every call.
  const parsed = new URL(url);
  const { protocol, hostname, port, path, auth } = urlToHttpOptions(parsed);
  const secure = protocol === 'https:';
  const options: http.RequestOptions = {
    protocol,
    hostname,
    path,
    agent: agents[secure ? 'https:' : 'http:'],
  };
  if (port !== undefined) options.port = port;
  if (auth !== undefined) options.auth = auth;
  target = { transport: secure ? https : http, options, host: parsed.host };
  if (targets.size >= mostTargets) targets.clear();
  targets.set(url, target);
  return target;
}

/**
 * node:http over keep-alive agents shared by every self-hosted model. Per call it costs about a quarter of
 * the CPU of Node 20's fetch (no WHATWG Request, Response and body streams around each exchange): measured
 * at ~0.2 ms against ~0.85 ms for a loopback txt2img round trip, which is most of the adapter's overhead in
 * `npm run bench -- --selfhosted`. nock intercepts it as it does fetch. The signal is watched by one
 * listener of our own rather than http.request's `signal` option, whose stream plumbing (an end-of-stream
 * watcher on the request) costs a few microseconds more per call.
 */
export const keepAliveExchange: HttpExchange = (url, request) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const { signal } = request;
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const target = targetOf(url);
    const outgoing = target.transport.request(
      { ...target.options, method: request.method, headers: headerList(target, request) },
      (incoming) => {
        // Bytes kept as they come and decoded once: an answer is usually one chunk.
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
        });
        incoming.on('end', () => {
          signal.removeEventListener('abort', cancel);
          resolve(new ReadAnswer(incoming, chunks));
        });
        incoming.on('error', (error) => {
          signal.removeEventListener('abort', cancel);
          reject(error);
        });
      },
    );
    // A listener object and inline callbacks, not named closures: under tsx (`npm start`, the benchmarks)
    // esbuild wraps each named closure in `__name`, ~0.7 µs apiece per call.
    const cancel = new DestroyOnAbort(outgoing, signal);
    signal.addEventListener('abort', cancel, { once: true });
    outgoing.on('error', (error) => {
      signal.removeEventListener('abort', cancel);
      reject(error);
    });
    outgoing.end(request.body);
  });

/**
 * The request's headers as a flat list, which node writes out as they are: handed an object, it stores
 * each header apart first (setHeader, then a second pass to write them), ~7 µs more per call. A list gets
 * no Host or Basic auth header from node, so Host is added here as node would, and a URL with credentials
 * in it keeps the object form.
 */
function headerList(
  target: Target,
  request: HttpExchangeRequest,
): Record<string, string | number> | string[] {
  const bodyLength = request.body === undefined ? undefined : Buffer.byteLength(request.body);
  if (target.options.auth !== undefined) {
    const headers: Record<string, string | number> = { ...request.headers };
    if (bodyLength !== undefined) headers['content-length'] = bodyLength;
    return headers;
  }
  const list: string[] = [];
  let hasHost = false;
  for (const name in request.headers) {
    if (name.toLowerCase() === 'host') hasHost = true;
    list.push(name, request.headers[name] as string);
  }
  if (!hasHost) list.push('host', target.host);
  if (bodyLength !== undefined) list.push('content-length', String(bodyLength));
  return list;
}

/** Ends a request when its signal aborts, failing it as http.request's own `signal` option would. */
class DestroyOnAbort {
  readonly #request: http.ClientRequest;
  readonly #signal: AbortSignal;

  constructor(request: http.ClientRequest, signal: AbortSignal) {
    this.#request = request;
    this.#signal = signal;
  }

  handleEvent(): void {
    this.#request.destroy(abortError(this.#signal));
  }
}

/** An answer read whole: its status, its headers on demand, its body decoded as UTF-8. */
class ReadAnswer implements HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly #headers: http.IncomingHttpHeaders;

  constructor(incoming: http.IncomingMessage, chunks: readonly Buffer[]) {
    this.status = incoming.statusCode ?? 0;
    this.#headers = incoming.headers;
    this.text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
  }

  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** What http.request's own `signal` option fails a request with (an AbortError carrying the reason). */
function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** An exchange through `fetch`: what tests and probes that hand a model their own fetch get. */
export function fetchExchange(fetch: typeof globalThis.fetch): HttpExchange {
  return async (url, request) => {
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: request.signal,
    });
    const text = await response.text();
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      text,
    };
  };
}
