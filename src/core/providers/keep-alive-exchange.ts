import http from 'node:http';
import https from 'node:https';

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

/**
 * node:http over keep-alive agents shared by every self-hosted model. Per call it costs about a quarter of
 * the CPU of Node 20's fetch (no WHATWG Request, Response and body streams around each exchange): measured
 * at ~0.2 ms against ~0.85 ms for a loopback txt2img round trip, which is most of the adapter's overhead in
 * `npm run bench -- --selfhosted`. nock intercepts it as it does fetch.
 */
export const keepAliveExchange: HttpExchange = (url, request) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
    const outgoing = transport.request(
      target,
      { method: request.method, headers, agent, signal: request.signal },
      (incoming) => {
        incoming.setEncoding('utf8');
        let text = '';
        incoming.on('data', (chunk: string) => {
          text += chunk;
        });
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            header: (name) => {
              const value = incoming.headers[name];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            text,
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });

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
