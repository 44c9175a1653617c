import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ImagineError } from '../../core/errors/imagine-error.ts';

/** The media type each servable extension is sent as; anything else under the folder is never served. */
const mediaTypeOfExtension: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** One path segment: no leading dot (so no `..`, no dot files), no separators, no NUL or control bytes. */
const segmentPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
/** Keys are `images/<user>/<id>.<ext>`; a little room beyond that, never an unbounded walk. */
const maxSegments = 4;
// O_NOFOLLOW makes the open itself refuse a link swapped in after the checks (not defined on Windows).
const openFlags = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0);

const notFound = () => new ImagineError('not_found', 'No image at this address');

/**
 * `GET|HEAD /images/*`: stored images from the local images folder, and nothing else. Only a regular file
 * with an image extension is served; a symbolic link anywhere below the folder (to a file, a directory, the
 * database, `/etc/passwd`) is a 404, as is a dot file, a `.tmp` left by a crash or a planted `.html`. Image
 * URLs name a unique id and never change content, so clients and CDNs may keep them for a year.
 */
export function imageFilesRoute(settings: { root: string }): FastifyPluginAsync {
  return async (app) => {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/images/*',
      schema: { hide: true },
      handler: async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
        // On every answer, refusals included: a browser must never guess a type for these bytes.
        reply.header('x-content-type-options', 'nosniff');
        const segments = request.params['*'].split('/');
        const name = segments.at(-1) ?? '';
        const mediaType = mediaTypeOfExtension[name.slice(name.lastIndexOf('.') + 1)];
        if (
          !mediaType ||
          !name.includes('.') ||
          segments.length > maxSegments ||
          !segments.every((segment) => segmentPattern.test(segment))
        ) {
          throw notFound();
        }
        const file = await openImage(settings.root, segments);
        return sendImage(request, reply, file, mediaType);
      },
    });
  };
}

/** Opens `root/…segments` when every step below the root is a real directory and the last a regular file. */
async function openImage(root: string, segments: readonly string[]): Promise<fs.FileHandle> {
  let current = root;
  let last: Awaited<ReturnType<typeof fs.lstat>> | undefined;
  try {
    for (const [index, segment] of segments.entries()) {
      current = path.join(current, segment);
      last = await fs.lstat(current);
      const isLast = index === segments.length - 1;
      if (isLast ? !last.isFile() : !last.isDirectory()) throw notFound();
    }
  } catch (error) {
    if (ImagineError.isInstance(error) || isMissing(error)) throw notFound();
    throw error;
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(current, openFlags);
  } catch (error) {
    // ELOOP: the file became a link between the check and the open.
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ELOOP') throw notFound();
    throw error;
  }
  // The same file that was checked, not one renamed over it since.
  const opened = await handle.stat();
  if (!opened.isFile() || opened.ino !== last?.ino || opened.dev !== last.dev) {
    await handle.close();
    throw notFound();
  }
  return handle;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG';
}

async function sendImage(
  request: FastifyRequest,
  reply: FastifyReply,
  handle: fs.FileHandle,
  mediaType: string,
): Promise<FastifyReply> {
  let stats: Awaited<ReturnType<fs.FileHandle['stat']>>;
  try {
    stats = await handle.stat();
  } catch (error) {
    await handle.close();
    throw error;
  }
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  const lastModified = stats.mtime.toUTCString();
  reply
    .header('content-type', mediaType)
    .header('cache-control', 'public, max-age=31536000, immutable')
    .header('etag', etag)
    .header('last-modified', lastModified)
    .header('accept-ranges', 'bytes');

  if (isFresh(request, etag, stats.mtime)) {
    await handle.close();
    return reply.code(304).send();
  }
  const range = requestedRange(request, etag, lastModified, stats.size);
  const start = range?.start ?? 0;
  const end = range?.end ?? stats.size - 1;
  if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${stats.size}`);
  reply.header('content-length', String(Math.max(0, end - start + 1)));
  if (request.method === 'HEAD' || stats.size === 0) {
    await handle.close();
    return reply.send();
  }
  // The stream closes the handle when it ends or when the client goes away.
  return reply.send(handle.createReadStream({ start, end }));
}

/** A conditional GET the client already holds the answer to (If-None-Match wins over If-Modified-Since). */
function isFresh(request: FastifyRequest, etag: string, modified: Date): boolean {
  const noneMatch = request.headers['if-none-match'];
  if (noneMatch !== undefined) {
    return noneMatch === '*' || noneMatch.split(',').some((tag) => weakTag(tag.trim()) === weakTag(etag));
  }
  const since = request.headers['if-modified-since'];
  if (since === undefined) return false;
  const sinceTime = Date.parse(since);
  return !Number.isNaN(sinceTime) && Math.floor(modified.getTime() / 1000) * 1000 <= sinceTime;
}

function weakTag(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * One satisfiable `bytes=` range, or undefined for the whole file. A server may ignore Range, so several
 * ranges, a malformed one, one past the end or a stale If-Range all get the whole image with 200.
 */
function requestedRange(
  request: FastifyRequest,
  etag: string,
  lastModified: string,
  size: number,
): { start: number; end: number } | undefined {
  const header = request.headers.range;
  if (header === undefined || size === 0) return undefined;
  const ifRange = request.headers['if-range'];
  if (ifRange !== undefined && ifRange !== etag && ifRange !== lastModified) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, second] = [match[1] ?? '', match[2] ?? ''];
  if (first === '') {
    const suffix = Number(second);
    if (suffix === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = second === '' ? size - 1 : Math.min(Number(second), size - 1);
  if (start > end || start >= size) return undefined;
  return { start, end };
}
