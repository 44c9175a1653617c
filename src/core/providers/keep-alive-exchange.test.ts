import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test-support/rejection.ts';
import { keepAliveExchange } from './keep-alive-exchange.ts';

let server: Server | undefined;

/**
 * A loopback server that echoes what it got. (That calls share a connection is not asserted here: nock,
 * loaded for every test, hands each intercepted request its own socket. The bench's stand-in counts them.)
 */
async function startEcho(): Promise<string> {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/slow') return; // never answered: the caller's signal ends it
      response.writeHead(request.url === '/busy' ? 503 : 200, {
        'content-type': 'application/json',
        'retry-after': '7',
      });
      response.end(
        JSON.stringify({
          method: request.method,
          url: request.url,
          contentType: request.headers['content-type'],
          host: request.headers.host,
          authorization: request.headers.authorization,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

const post = (body: string) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body,
  signal: new AbortController().signal,
});

describe('keepAliveExchange', () => {
  it('sends the body and reads the whole answer, its status and headers', async () => {
    const url = await startEcho();

    const answer = await keepAliveExchange(`${url}/sdapi/v1/txt2img`, post('{"prompt":"a café"}'));

    expect(answer.status).toBe(200);
    expect(answer.header('content-type')).toBe('application/json');
    expect(JSON.parse(answer.text)).toEqual({
      method: 'POST',
      url: '/sdapi/v1/txt2img',
      contentType: 'application/json',
      host: new URL(url).host,
      body: '{"prompt":"a café"}',
    });
  });

  it('sends the Host header node would, and Basic auth for credentials in the URL', async () => {
    const url = new URL(await startEcho());
    url.username = 'operator';
    url.password = 'p@ss';

    const answer = await keepAliveExchange(`${url.href}sdapi/v1/options`, {
      ...post('{}'),
      method: 'GET',
      body: undefined,
      headers: {},
    });

    expect(JSON.parse(answer.text)).toMatchObject({
      method: 'GET',
      host: url.host,
      authorization: `Basic ${Buffer.from('operator:p@ss').toString('base64')}`,
    });
  });

  it('answers an error status as an answer, not a failure', async () => {
    const url = await startEcho();

    const answer = await keepAliveExchange(`${url}/busy`, post('{}'));

    expect(answer.status).toBe(503);
    expect(answer.header('retry-after')).toBe('7');
  });

  it('rejects when nothing listens, and when the signal aborts the call', async () => {
    const url = await startEcho();
    const port = new URL(url).port;
    server?.close();
    await once(server as Server, 'close');
    const refused = await rejectionOf(keepAliveExchange(`http://127.0.0.1:${port}/`, post('{}')));
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });

    const live = await startEcho();
    const controller = new AbortController();
    const pending = keepAliveExchange(`${live}/slow`, { ...post('{}'), signal: controller.signal });
    controller.abort();
    expect(await rejectionOf(pending)).toMatchObject({ name: 'AbortError' });
  });
});
