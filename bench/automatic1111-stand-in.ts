/**
 * A stand-in AUTOMATIC1111 (`--api`) for the self-hosted benchmark, run as a child process: it answers
 * `POST /sdapi/v1/txt2img` at once with a 1×1 PNG and keeps, per request, its own handling time (from the
 * request arriving to the answer leaving), keyed by the `bench-<n>` token the benchmark puts in each prompt.
 * It answers `GET /sdapi/v1/progress` as an idle server would, and counts those polls. Messages: it posts
 * `{ url }` once listening; on `'timings'` it posts `{ timings, progressPolls, connections }` ([token, ms] pairs, the
 * polls and the TCP connections opened since the last time) and starts counting again.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tinyPngBase64 } from './in-memory-fakes.ts';

if (!process.send) throw new Error('automatic1111-stand-in.ts runs as a child process with an IPC channel');
const send = process.send.bind(process);
const timings = new Map<string, number>();
let progressPolls = 0;
let connections = 0;

const server = createServer((request, response) => {
  const arrivedAt = performance.now();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'GET' && request.url?.startsWith('/sdapi/v1/progress')) {
      progressPolls++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"progress":0,"eta_relative":0,"state":{"job_count":0}}');
      return;
    }
    if (request.method !== 'POST' || request.url !== '/sdapi/v1/txt2img') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"detail":"Not Found"}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompt: string; seed: number };
    const token = /bench-\d+/.exec(body.prompt)?.[0];
    const seed = body.seed === -1 ? 1234 : body.seed;
    // TextToImageResponse: base64 images, the request echoed, `info` as a JSON string naming the seed.
    const answer = JSON.stringify({
      images: [tinyPngBase64],
      parameters: {},
      info: JSON.stringify({ seed, all_seeds: [seed] }),
    });
    response.on('finish', () => {
      if (token !== undefined) timings.set(token, performance.now() - arrivedAt);
    });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(answer);
  });
});

// imagine keeps its connections open between calls: about one per concurrent request is expected.
server.on('connection', () => {
  connections++;
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  send({ url: `http://127.0.0.1:${port}` });
});

process.on('message', (message: unknown) => {
  if (message !== 'timings') return;
  send({ timings: [...timings], progressPolls, connections });
  timings.clear();
  progressPolls = 0;
  connections = 0;
});
