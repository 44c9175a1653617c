import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from 'firebase-admin/app';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test-support/rejection.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { createFirebaseApp, deleteFirebaseApp } from '../firebase/firebase-app.ts';
import { createFirebaseImageStorage } from './firebase-image-storage.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const bucketName = 'imagine-test.appspot.com';
const key = 'images/u1/abc.png';
const encodedKey = encodeURIComponent(key);
const tinyPng = readFileSync(path.join(fixtures, 'tiny.png'));
const accessToken = fixture<{ access_token: string }>('oauth2-token.json').access_token;

function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

let temporaryDirectory: string;
let credentialsPath: string;
let app: App;

beforeAll(() => {
  // A test-only service account around a key made now; nothing secret is committed.
  temporaryDirectory = mkdtempSync(path.join(tmpdir(), 'imagine-storage-test-'));
  credentialsPath = path.join(temporaryDirectory, 'service-account.json');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccount = fixture<Record<string, unknown>>('service-account.test-only.json');
  serviceAccount.private_key = privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(credentialsPath, JSON.stringify(serviceAccount));
});

afterAll(() => rmSync(temporaryDirectory, { recursive: true, force: true }));

// A fresh app per test: each has its own Storage client, so each asks for its own access token.
beforeEach(() => {
  app = createFirebaseApp({ projectId: 'imagine-test', credentialsPath, storageBucket: bucketName });
});

afterEach(async () => {
  await deleteFirebaseApp(app);
});

/** The Cloud Storage client (google-auth-library 9, gtoken 7) trades its signed assertion for a token here. */
function mockAccessToken(): void {
  nock('https://www.googleapis.com')
    .post(
      '/oauth2/v4/token',
      (body: Record<string, string>) => body.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    )
    .reply(200, fixture('oauth2-token.json'));
}

function gcs(): nock.Scope {
  return nock('https://storage.googleapis.com', {
    reqheaders: { authorization: `Bearer ${accessToken}` },
  });
}

/** nock hands a body matcher any body that is not valid UTF-8 (here, a PNG inside a multipart body) as hex. */
function bodyBytes(body: string): Buffer {
  return /^(?:[0-9a-f]{2})+$/.test(body) ? Buffer.from(body, 'hex') : Buffer.from(body, 'utf8');
}

/** Expects an upload and hands back the raw multipart body it received. */
function mockUpload(
  status = 200,
  reply: unknown = fixture('gcs-upload-tiny-png.json'),
): { body: () => Buffer } {
  let received: Buffer | undefined;
  gcs()
    .post(`/upload/storage/v1/b/${bucketName}/o`, (body: string) => {
      received = bodyBytes(body);
      return true;
    })
    .query({ uploadType: 'multipart', name: key })
    .reply(status, reply as nock.Body);
  return {
    body: () => {
      if (!received) throw new Error('the upload was not made');
      return received;
    },
  };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, ImagineError);

function expectStorageFailure(error: ImagineError, googleDetail: string): void {
  expect(error.code).toBe('internal_error');
  expect(error.httpStatus).toBe(500);
  expect(error.message).toBe('The image could not be stored');
  for (const leak of [googleDetail, bucketName, 'googleapis', 'imagine-test@']) {
    expect(error.message).not.toContain(leak);
  }
  // Google's words are kept for the logs, only not shown to the person.
  expect(String((error.cause as Error | undefined)?.message)).toContain(googleDetail);
}

describe('Firebase image storage: save', () => {
  it('uploads the bytes in one multipart request and returns the public URL', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    const upload = mockUpload();

    const saved = await storage.save({ key, bytes: new Uint8Array(tinyPng), contentType: 'image/png' });

    expect(storage.kind).toBe('firebase');
    expect(saved).toEqual({ key, url: `https://storage.googleapis.com/${bucketName}/images/u1/abc.png` });
    const body = upload.body();
    const metadata = /\r\n\r\n(\{.*?\})\r\n--/s.exec(body.toString('latin1'))?.[1];
    expect(JSON.parse(metadata ?? 'null')).toEqual({
      contentType: 'image/png',
      cacheControl: 'public, max-age=31536000, immutable',
    });
    expect(body.includes(Buffer.concat([Buffer.from('Content-Type: image/png\r\n\r\n'), tinyPng]))).toBe(
      true,
    );
  });

  it('encodes each segment of the key in the URL but keeps the slashes', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    const oddKey = 'images/user name/ä#1.png';
    mockAccessToken();
    gcs()
      .post(`/upload/storage/v1/b/${bucketName}/o`)
      .query({ uploadType: 'multipart', name: oddKey })
      .reply(200, { ...fixture<object>('gcs-upload-tiny-png.json'), name: oddKey });

    const saved = await storage.save({ key: oddKey, bytes: tinyPng, contentType: 'image/png' });

    expect(saved.url).toBe(`https://storage.googleapis.com/${bucketName}/images/user%20name/%C3%A4%231.png`);
  });

  it('grants allUsers read after the upload when makePublic is set', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: true });
    mockAccessToken();
    mockUpload();
    gcs()
      .post(`/storage/v1/b/${bucketName}/o/${encodedKey}/acl`, { entity: 'allUsers', role: 'READER' })
      .reply(200, fixture('gcs-object-acl-all-users.json'));

    const saved = await storage.save({ key, bytes: tinyPng, contentType: 'image/png' });

    expect(saved.url).toBe(`https://storage.googleapis.com/${bucketName}/${key}`);
  });

  it('turns a refused upload (403) into a storage failure without Google’s detail', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: true });
    mockAccessToken();
    mockUpload(403, fixture('gcs-error-403-objects-create.json'));

    const error = await rejection(storage.save({ key, bytes: tinyPng, contentType: 'image/png' }));

    expectStorageFailure(error, 'storage.objects.create');
  });

  it('fails at once on a server error (500): an upload without a precondition is not retried', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    // One interceptor: a retry would be a request nothing expected, and the guard would fail the test.
    mockUpload(500, fixture('gcs-error-500.json'));

    const error = await rejection(storage.save({ key, bytes: tinyPng, contentType: 'image/png' }));

    expectStorageFailure(error, 'internal error');
  });

  it('removes the upload again when it cannot be made public', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: true });
    mockAccessToken();
    mockUpload();
    gcs()
      .post(`/storage/v1/b/${bucketName}/o/${encodedKey}/acl`)
      .reply(400, fixture('gcs-error-400-uniform-access.json'));
    gcs().delete(`/storage/v1/b/${bucketName}/o/${encodedKey}`).reply(204);

    const error = await rejection(storage.save({ key, bytes: tinyPng, contentType: 'image/png' }));

    expectStorageFailure(error, 'uniform bucket-level access');
  });
});

describe('Firebase image storage: remove', () => {
  it('deletes the object', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    gcs().delete(`/storage/v1/b/${bucketName}/o/${encodedKey}`).reply(204);

    await expect(storage.remove(key)).resolves.toBeUndefined();
  });

  it('treats an object that is already gone as removed', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    gcs()
      .delete(`/storage/v1/b/${bucketName}/o/${encodeURIComponent('images/u1/gone.png')}`)
      .reply(404, fixture('gcs-error-404-object.json'));

    await expect(storage.remove('images/u1/gone.png')).resolves.toBeUndefined();
  });
});

describe('Firebase image storage: checkReady', () => {
  it('is ready when the bucket can be looked up', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    gcs().get(`/storage/v1/b/${bucketName}`).reply(200, fixture('gcs-bucket.json'));

    await expect(storage.checkReady()).resolves.toBe(true);
  });

  it('is not ready when the bucket does not exist', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    gcs().get(`/storage/v1/b/${bucketName}`).reply(404, fixture('gcs-error-404-bucket.json'));

    await expect(storage.checkReady()).resolves.toBe(false);
  });

  it('is not ready, and does not throw, when the lookup is refused', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false });
    mockAccessToken();
    gcs().get(`/storage/v1/b/${bucketName}`).reply(403, fixture('gcs-error-403-objects-create.json'));

    await expect(storage.checkReady()).resolves.toBe(false);
  });

  it('is not ready when the bucket does not answer in time', async () => {
    const storage = createFirebaseImageStorage({ app, bucketName, makePublic: false, readyTimeoutMs: 50 });
    mockAccessToken();
    // The bucket answers only once the check has given up, however slowly the machine runs: its answer is
    // late by construction, not by a delay that a loaded machine could outrun.
    let reached!: () => void;
    const requestReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let answer!: () => void;
    const answerNow = new Promise<void>((resolve) => {
      answer = resolve;
    });
    gcs()
      .get(`/storage/v1/b/${bucketName}`)
      .reply(async () => {
        reached();
        await answerNow;
        return [200, fixture('gcs-bucket.json')];
      });

    await expect(storage.checkReady()).resolves.toBe(false);
    // The call the check started still reaches the bucket; it is answered after the check said no.
    await requestReached;
    answer();
  });
});
