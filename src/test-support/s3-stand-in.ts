/**
 * An S3-compatible bucket on 127.0.0.1, speaking the S3 REST API's documented wire format with path-style
 * addressing (`/<bucket>/<key>`, as MinIO and R2 take it): PutObject, GetObject, HeadObject, DeleteObject,
 * HeadBucket and ListObjectsV2, XML error bodies with S3's codes. It keeps every request, refuses any without
 * a SigV4 `Authorization` header (checking the signature itself when it is given the secret), and can be told
 * to fail the way S3 does (500 InternalError, 503 SlowDown, 403 AccessDenied).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type ReceivedRequest, type StandInServer, startStandInServer } from './stand-in-server.ts';

/** An object as the bucket holds it. */
export interface StandInObject {
  bytes: Buffer;
  contentType: string | undefined;
  cacheControl: string | undefined;
  lastModified: Date;
}

/** The S3 operations the stand-in tells apart (from the method and path, as S3 does). */
export type S3Operation =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'HeadBucket'
  | 'ListObjectsV2'
  | 'Unknown';

/** A failure S3 answers with: its HTTP status and error code. */
export const s3Failures = {
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  AccessDenied: { status: 403, message: 'Access Denied' },
} as const;

/** A request the stand-in received, with the operation it was and what its Authorization header said. */
export interface S3Request extends ReceivedRequest {
  operation: S3Operation;
  key: string | undefined;
  /** The access key id the SigV4 header names; undefined when the request carried no SigV4 header. */
  accessKeyId: string | undefined;
}

/** A stand-in bucket and its controls. */
export interface S3StandIn {
  /** `http://127.0.0.1:<port>`: what S3_ENDPOINT is set to. */
  endpoint: string;
  bucket: string;
  objects: Map<string, StandInObject>;
  requests: S3Request[];
  /** Answer every request for `operations` (all of them when omitted) with `failure` until `recover()`. */
  fail(failure: keyof typeof s3Failures, operations?: readonly S3Operation[]): void;
  recover(): void;
  close(): Promise<void>;
}

/**
 * Starts a stand-in bucket named `bucket`. With `credentials`, each request's SigV4 signature is recomputed
 * from the secret and a wrong one is refused with SignatureDoesNotMatch, as S3 would.
 */
export async function startS3StandIn(
  options: { bucket?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } = {},
): Promise<S3StandIn> {
  const bucket = options.bucket ?? 'imagine-images';
  const objects = new Map<string, StandInObject>();
  const requests: S3Request[] = [];
  let failure: { code: keyof typeof s3Failures; operations: readonly S3Operation[] | undefined } | undefined;

  const server: StandInServer = await startStandInServer((received, response) => {
    const url = new URL(received.url, 'http://stand-in');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = keyParts.length > 0 ? decodeURIComponent(keyParts.join('/')) : undefined;
    const operation = operationOf(received.method, key, url.searchParams);
    const authorization = parseAuthorization(received.headers.authorization);
    const request: S3Request = { ...received, operation, key, accessKeyId: authorization?.accessKeyId };
    requests.push(request);
    const resource = url.pathname;

    if (!authorization || !received.headers['x-amz-date'] || !received.headers['x-amz-content-sha256']) {
      return sendError(response, 403, 'AccessDenied', 'Missing or malformed SigV4 authorization', resource);
    }
    const payloadHash = received.headers['x-amz-content-sha256'];
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(received.raw)) {
      return sendError(
        response,
        400,
        'XAmzContentSHA256Mismatch',
        'The payload hash does not match',
        resource,
      );
    }
    if (options.credentials) {
      const expected = signatureOf(received, url, authorization, options.credentials.secretAccessKey);
      if (authorization.accessKeyId !== options.credentials.accessKeyId) {
        return sendError(response, 403, 'InvalidAccessKeyId', 'The access key id does not exist', resource);
      }
      if (expected !== authorization.signature) {
        return sendError(response, 403, 'SignatureDoesNotMatch', 'The signature does not match', resource);
      }
    }
    if (failure && (!failure.operations || failure.operations.includes(operation))) {
      const { status, message } = s3Failures[failure.code];
      return sendError(response, status, failure.code, message, resource, received.method === 'HEAD');
    }
    if (bucketName !== bucket) {
      return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource);
    }

    const object = key === undefined ? undefined : objects.get(key);
    switch (operation) {
      case 'PutObject': {
        objects.set(key as string, {
          bytes: received.raw,
          contentType: header(received, 'content-type'),
          cacheControl: header(received, 'cache-control'),
          lastModified: new Date(),
        });
        response.writeHead(200, { etag: etagOf(received.raw), 'x-amz-request-id': requestId() });
        return void response.end();
      }
      case 'GetObject':
      case 'HeadObject': {
        if (!object) {
          return sendError(
            response,
            404,
            'NoSuchKey',
            'The specified key does not exist.',
            resource,
            operation === 'HeadObject',
          );
        }
        response.writeHead(200, {
          'content-type': object.contentType ?? 'binary/octet-stream',
          'content-length': object.bytes.length,
          etag: etagOf(object.bytes),
          'last-modified': object.lastModified.toUTCString(),
          ...(object.cacheControl ? { 'cache-control': object.cacheControl } : {}),
          'x-amz-request-id': requestId(),
        });
        return void response.end(operation === 'GetObject' ? object.bytes : undefined);
      }
      case 'DeleteObject': {
        // S3 answers 204 whether or not the key was there.
        if (key !== undefined) objects.delete(key);
        response.writeHead(204, { 'x-amz-request-id': requestId() });
        return void response.end();
      }
      case 'HeadBucket': {
        response.writeHead(200, { 'x-amz-bucket-region': 'us-east-1', 'x-amz-request-id': requestId() });
        return void response.end();
      }
      case 'ListObjectsV2':
        return sendList(response, bucket, objects, url.searchParams);
      default:
        return sendError(
          response,
          501,
          'NotImplemented',
          'The stand-in does not offer this operation',
          resource,
        );
    }
  });

  return {
    endpoint: server.url,
    bucket,
    objects,
    requests,
    fail(code, operations) {
      failure = { code, operations };
    },
    recover() {
      failure = undefined;
    },
    close: () => server.close(),
  };
}

function operationOf(method: string, key: string | undefined, query: URLSearchParams): S3Operation {
  if (key === undefined || key === '') {
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
    return 'Unknown';
  }
  switch (method) {
    case 'PUT':
      return 'PutObject';
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return 'DeleteObject';
    default:
      return 'Unknown';
  }
}

interface SigV4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/s3/aws4_request, SignedHeaders=a;b, Signature=<hex>`. */
function parseAuthorization(value: string | undefined): SigV4Authorization | undefined {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      value ?? '',
    );
  if (!match) return undefined;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  return {
    accessKeyId: accessKeyId as string,
    date: date as string,
    region: region as string,
    service: service as string,
    signedHeaders: (signedHeaders as string).split(';'),
    signature: signature as string,
  };
}

/** The signature SigV4 gives this request (AWS's "Create a signed AWS API request", with S3's single encoding). */
function signatureOf(
  request: ReceivedRequest,
  url: URL,
  authorization: SigV4Authorization,
  secretAccessKey: string,
): string {
  const query = [...url.searchParams]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = authorization.signedHeaders
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonicalRequest = [
    request.method,
    // The path as sent: S3 signs it encoded once, as the client put it on the wire.
    url.pathname,
    query,
    headers,
    authorization.signedHeaders.join(';'),
    String(request.headers['x-amz-content-sha256']),
  ].join('\n');
  const scope = `${authorization.date}/${authorization.region}/${authorization.service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    String(request.headers['x-amz-date']),
    scope,
    sha256(Buffer.from(canonicalRequest)),
  ].join('\n');
  let signingKey: Buffer = Buffer.from(`AWS4${secretAccessKey}`);
  for (const part of [authorization.date, authorization.region, authorization.service, 'aws4_request']) {
    signingKey = createHmac('sha256', signingKey).update(part).digest();
  }
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function sendList(
  response: ServerResponse,
  bucket: string,
  objects: ReadonlyMap<string, StandInObject>,
  query: URLSearchParams,
): void {
  const prefix = query.get('prefix') ?? '';
  const maxKeys = Number(query.get('max-keys') ?? 1000);
  const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
  const matching = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
  const page = matching.slice(0, maxKeys);
  const truncated = matching.length > page.length;
  const contents = page
    .map((key) => {
      const object = objects.get(key) as StandInObject;
      return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${escapeXml(etagOf(object.bytes))}</ETag><Size>${object.bytes.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join('');
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
    `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}` +
    (truncated ? `<NextContinuationToken>${escapeXml(page.at(-1) ?? '')}</NextContinuationToken>` : '') +
    '</ListBucketResult>';
  response.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': requestId() });
  response.end(body);
}

/** S3's error answer: an XML `<Error>` document (a HEAD answer has the status and no body). */
function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
  headOnly = false,
): void {
  const id = requestId();
  response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': id });
  if (headOnly) return void response.end();
  response.end(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${id}</RequestId></Error>`,
  );
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function etagOf(bytes: Buffer): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

function requestId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}
