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
}

/** A model calls a handful of URLs (txt2img, progress, interrupt); the cap only bounds odd callers. */
const targets = new Map<string, Target>();
const mostTargets = 256;

function targetOf(url: string): Target {
  let target = targets.get(url);
  if (target !== undefined) return target;
  // What http.request would take from the URL itself, less the fields it never reads (href, hash,
  // search, pathname): the agent copies a request's options into a new object on every call.
  const { protocol, hostname, port, path, auth } = urlToHttpOptions(new URL(url));
  const secure = protocol === 'https:';
  const options: http.RequestOptions = {
    protocol,
    hostname,
    path,
    agent: agents[secure ? 'https:' : 'http:'],
  };
  if (port !== undefined) options.port = port;
  if (auth !== undefined) options.auth = auth;
  target = { transport: secure ? https : http, options };
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
    const { transport, options } = targetOf(url);
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
    const onAbort = () => outgoing.destroy(abortError(signal));
    const fail = (error: Error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    };
    const outgoing = transport.request({ ...options, method: request.method, headers }, (incoming) => {
      // Bytes kept as they come and decoded once: an answer is usually one chunk.
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
      });
      incoming.on('end', () => {
        signal.removeEventListener('abort', onAbort);
        const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        resolve({
          status: incoming.statusCode ?? 0,
          header: (name) => {
            const value = incoming.headers[name];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          text: bytes.toString('utf8'),
        });
      });
      incoming.on('error', fail);
    });
    signal.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', fail);
    outgoing.end(request.body);
  });

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
