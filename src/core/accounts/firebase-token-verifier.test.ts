import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from 'firebase-admin/app';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ImagineError } from '../errors/imagine-error.ts';
import { createFirebaseApp, deleteFirebaseApp } from '../firebase/firebase-app.ts';
import { createFirebaseTokenVerifier } from './firebase-token-verifier.ts';
import { firebaseRefusal } from './token-refusal.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const projectId = 'imagine-test';
const kid = 'test-only-kid-1';
const accessToken = fixture<{ access_token: string }>('oauth2-token.json').access_token;

function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

let temporaryDirectory: string;
let serviceAccountJson: string;
let signingKey: KeyObject;
let signingCertificate: string;
let foreignKey: KeyObject;
let appsCreated = 0;
let app: App;

beforeAll(() => {
  // Test-only keys made now: one stands in for Google's token signing key (published as a self-signed
  // certificate, as Google does), one is a stranger's, one belongs to the service account.
  temporaryDirectory = mkdtempSync(path.join(tmpdir(), 'imagine-firebase-auth-test-'));
  signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const keyPath = path.join(temporaryDirectory, 'signing-key.pem');
  writeFileSync(keyPath, signingKey.export({ type: 'pkcs8', format: 'pem' }));
  signingCertificate = execFileSync(
    'openssl',
    ['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=imagine test-only token signer', '-days', '2'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );

  const serviceAccount = fixture<Record<string, unknown>>('service-account.test-only.json');
  const serviceAccountKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  serviceAccount.private_key = serviceAccountKey.export({ type: 'pkcs8', format: 'pem' });
  serviceAccountJson = JSON.stringify(serviceAccount);
});

afterAll(() => rmSync(temporaryDirectory, { recursive: true, force: true }));

// firebase-admin caches Google's public keys per app, and cert() caches a credential (with its access token)
// per file path for the whole process. A fresh app over a fresh file per test makes each test fetch both
// afresh, so every test states exactly the requests it expects.
beforeEach(() => {
  appsCreated += 1;
  const credentialsPath = path.join(temporaryDirectory, `service-account-${appsCreated}.json`);
  writeFileSync(credentialsPath, serviceAccountJson);
  app = createFirebaseApp({ projectId, credentialsPath, storageBucket: undefined });
});

afterEach(async () => {
  await deleteFirebaseApp(app);
});

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function idTokenClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return {
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    auth_time: now - 120,
    user_id: 'user-1',
    sub: 'user-1',
    iat: now - 60,
    exp: now + 3540,
    email: 'ada@example.com',
    email_verified: true,
    plan: 'pro',
    firebase: { identities: { email: ['ada@example.com'] }, sign_in_provider: 'password' },
    ...overrides,
  };
}

/** An RS256 JWT shaped like a Firebase ID token. */
function signIdToken(claims: Record<string, unknown>, key: KeyObject = signingKey): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', kid, typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
}

function mockPublicKeys(): void {
  nock('https://www.googleapis.com')
    .get('/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com')
    .reply(
      200,
      { [kid]: signingCertificate },
      {
        'Content-Type': 'application/json; charset=UTF-8',
        'Cache-Control': 'public, max-age=22141, must-revalidate, no-transform',
      },
    );
}

/** The service-account credential (google-auth-library 10) trades its signed assertion for a token here. */
function mockAccessToken(): void {
  nock('https://oauth2.googleapis.com')
    .post(
      '/token',
      (body: Record<string, string>) => body.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    )
    .reply(200, fixture('oauth2-token.json'));
}

/** The user lookup `checkRevoked` makes; `validSince` is when the user's tokens were last revoked. */
function mockUserLookup(validSince: number): void {
  const response = fixture<{ users: Record<string, unknown>[] }>('accounts-lookup.json');
  for (const user of response.users) user.validSince = String(validSince);
  nock('https://identitytoolkit.googleapis.com', { reqheaders: { authorization: `Bearer ${accessToken}` } })
    .post(`/v1/projects/${projectId}/accounts:lookup`, { localId: ['user-1'] })
    .reply(200, response);
}

async function expectUnauthorized(promise: Promise<unknown>, token: string): Promise<ImagineError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!ImagineError.isInstance(error)) throw new Error(`expected an ImagineError, got ${String(error)}`);
  expect(error.code).toBe('unauthorized');
  expect(error.httpStatus).toBe(401);
  // The registry's sentence only: neither the token nor firebase's explanation reaches the caller.
  expect(error.message).toBe('Invalid or expired token');
  if (token) expect(error.message).not.toContain(token);
  expect(error.cause).toBeInstanceOf(Error);
  return error;
}

describe('Firebase ID token verifier', () => {
  it('accepts a valid token and reads uid, plan and email', async () => {
    const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
    mockPublicKeys();

    await expect(verifier.verify(signIdToken(idTokenClaims()))).resolves.toEqual({
      uid: 'user-1',
      plan: 'pro',
      email: 'ada@example.com',
    });
  });

  it('leaves plan and email undefined when the token has none (or a plan that is not a string)', async () => {
    const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
    mockPublicKeys();
    const token = signIdToken(idTokenClaims({ plan: 3, email: undefined }));

    await expect(verifier.verify(token)).resolves.toEqual({
      uid: 'user-1',
      plan: undefined,
      email: undefined,
    });
  });

  it('rejects an expired token', async () => {
    const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
    mockPublicKeys();
    const now = nowSeconds();
    const token = signIdToken(idTokenClaims({ auth_time: now - 7300, iat: now - 7200, exp: now - 3600 }));

    const error = await expectUnauthorized(verifier.verify(token), token);

    expect(String((error.cause as Error).message)).toMatch(/expired/);
    expect(firebaseRefusal(error.cause)).toBe('expired');
  });

  it('rejects a token signed by another key', async () => {
    const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
    mockPublicKeys();
    const token = signIdToken(idTokenClaims(), foreignKey);

    const error = await expectUnauthorized(verifier.verify(token), token);

    expect(String((error.cause as Error).message)).toMatch(/invalid signature/);
    expect(firebaseRefusal(error.cause)).toBe('bad signature');
  });

  it('rejects a token for another project without fetching keys', async () => {
    // The audience is checked before the signature, so no key request is made (and none is mocked).
    const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
    const token = signIdToken(idTokenClaims({ aud: 'someone-elses-project' }));

    const error = await expectUnauthorized(verifier.verify(token), token);

    expect(String((error.cause as Error).message)).toMatch(/audience/);
    expect(firebaseRefusal(error.cause)).toBe('wrong project');
  });

  it.each([
    ['a garbage string', 'not-a-jwt'],
    ['an empty string', ''],
    ['three dots of nothing', 'a.b.c'],
  ])('rejects %s', async (_name, token) => {
    const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });

    const error = await expectUnauthorized(verifier.verify(token), token);

    expect(firebaseRefusal(error.cause)).toBe('malformed');
  });

  describe('when Google’s signing keys cannot be fetched', () => {
    /** What Node's http client emits when the connection cannot be made. */
    const networkError = (code: string, message: string) => Object.assign(new Error(message), { code });
    const keysUrl = () =>
      nock('https://www.googleapis.com').get(
        '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com',
      );

    // firebase-admin itself retries a 503 and a reset connection four times, seconds apart; these it does not.
    it.each([
      ['a 502', () => keysUrl().reply(502, 'Bad Gateway', { 'Content-Type': 'text/html' })],
      ['a 404', () => keysUrl().reply(404, 'Not Found', { 'Content-Type': 'text/html' })],
      [
        'a 500 in Google’s JSON error shape',
        () => keysUrl().reply(500, { error: 'backend_error', error_description: 'try again' }),
      ],
      [
        'a refused connection',
        () => keysUrl().replyWithError(networkError('ECONNREFUSED', 'connect ECONNREFUSED 142.250.0.95:443')),
      ],
      [
        'a name that does not resolve',
        () => keysUrl().replyWithError(networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND www.googleapis.com')),
      ],
    ])('answers provider_unavailable with retry_after after %s, not unauthorized', async (_name, reply) => {
      const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
      reply();
      const token = signIdToken(idTokenClaims());

      const error = await verifier.verify(token).catch((thrown: unknown) => thrown);

      if (!ImagineError.isInstance(error)) throw new Error(`expected an ImagineError, got ${String(error)}`);
      expect(error.code).toBe('provider_unavailable');
      expect(error.httpStatus).toBe(503);
      expect(error.context).toEqual({ retry_after: 30 });
      expect(error.message).not.toContain(token);
    });

    it('verifies the next token once the keys come back', async () => {
      const verifier = createFirebaseTokenVerifier({ app, checkRevoked: false });
      keysUrl().reply(502, 'Bad Gateway', { 'Content-Type': 'text/html' });
      mockPublicKeys();
      const token = signIdToken(idTokenClaims());

      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'provider_unavailable' });
      await expect(verifier.verify(token)).resolves.toMatchObject({ uid: 'user-1' });
    });
  });

  describe('with checkRevoked', () => {
    it('answers provider_unavailable when the user lookup fails on Google’s side', async () => {
      const verifier = createFirebaseTokenVerifier({ app, checkRevoked: true });
      mockPublicKeys();
      mockAccessToken();
      nock('https://identitytoolkit.googleapis.com')
        .post(`/v1/projects/${projectId}/accounts:lookup`)
        .reply(500, { error: { code: 500, message: 'INTERNAL_ERROR', status: 'INTERNAL' } });

      await expect(verifier.verify(signIdToken(idTokenClaims()))).rejects.toMatchObject({
        code: 'provider_unavailable',
        context: { retry_after: 30 },
      });
    });

    it('accepts a token issued after the user’s tokens were last revoked', async () => {
      const verifier = createFirebaseTokenVerifier({ app, checkRevoked: true });
      const claims = idTokenClaims();
      mockPublicKeys();
      mockAccessToken();
      mockUserLookup(Number(claims.auth_time) - 3600);

      await expect(verifier.verify(signIdToken(claims))).resolves.toMatchObject({
        uid: 'user-1',
        plan: 'pro',
      });
    });

    it('rejects a token issued before the user’s tokens were revoked', async () => {
      const verifier = createFirebaseTokenVerifier({ app, checkRevoked: true });
      const claims = idTokenClaims();
      mockPublicKeys();
      mockAccessToken();
      mockUserLookup(Number(claims.auth_time) + 60);
      const token = signIdToken(claims);

      const error = await expectUnauthorized(verifier.verify(token), token);

      expect(error.cause).toMatchObject({ code: 'auth/id-token-revoked' });
      expect(firebaseRefusal(error.cause)).toBe('revoked');
    });
  });
});
