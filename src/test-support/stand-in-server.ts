import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the stand-in received it: the path with its query, lower-case headers, the parsed JSON body. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, e.g. `/sdapi/v1/progress?skip_current_image=true`. */
  url: string;
  pathname: string;
  headers: IncomingMessage['headers'];
  /** The JSON body, or undefined when there was none (or it was not JSON). */
  body: unknown;
  /** The body's bytes as they arrived (multipart uploads, raw files). */
  raw: Buffer;
}

/** Answers one request; whatever it does not end, the stand-in answers 404. */
export type StandInHandler = (request: ReceivedRequest, response: ServerResponse) => void | Promise<void>;

/** A vendor's server played on 127.0.0.1, keeping every request it received. */
export interface StandInServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a stand-in HTTP server on an ephemeral loopback port. Tests assert the requests it kept and speak
 * the vendor's documented wire format in `handler`.
 */
export async function startStandInServer(handler: StandInHandler): Promise<StandInServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer(async (incoming, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const text = raw.toString('utf8');
    const url = incoming.url ?? '/';
    const request: ReceivedRequest = {
      method: incoming.method ?? 'GET',
      url,
      pathname: new URL(url, 'http://stand-in').pathname,
      headers: incoming.headers,
      body: parseJson(text),
      raw,
    };
    requests.push(request);
    try {
      await handler(request, response);
    } catch (error) {
      if (!response.headersSent) sendJson(response, 500, { error: String(error) });
    }
    if (!response.writableEnded && !response.headersSent) sendJson(response, 404, { detail: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes `body` as a JSON answer. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A loopback URL nothing listens on (a port bound, then released), for "the server is down". */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
