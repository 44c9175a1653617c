/** A refused token says why in the log (at info), and never what the token was. */
import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { FirebaseTokenVerifier } from '../../core/accounts/firebase-token-verifier.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import type { Services } from '../../services.ts';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { createTestServices } from '../../test-support/test-services.ts';
import { createAuthenticator } from './authenticate.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

/** firebase-admin's rejection of an expired token, as the verifier keeps it for the cause. */
const expiredFirebaseError = Object.assign(
  new Error('Firebase ID token has expired. Get a fresh ID token from your client app and try again.'),
  { code: 'auth/id-token-expired' },
);

const firebaseTokens: FirebaseTokenVerifier = {
  async verify(idToken) {
    if (idToken === 'eyJ.expired.token') {
      throw new ImagineError('unauthorized', undefined, {}, { cause: expiredFirebaseError });
    }
    throw new ImagineError('provider_unavailable', 'Sign-in cannot be checked right now', {
      retry_after: 30,
    });
  },
};

async function refusal(authorization: string | undefined, withFirebase = true) {
  services ??= await createTestServices();
  const captured = capturingLogger('info');
  const authenticate = createAuthenticator({
    apiKeys: services.apiKeys,
    accounts: services.accounts,
    firebaseTokens: withFirebase ? firebaseTokens : undefined,
  });
  const request = {
    headers: authorization === undefined ? {} : { authorization },
    log: captured.logger,
  } as unknown as FastifyRequest;
  const error = await (async () => authenticate(request))().catch((thrown: unknown) => thrown);
  const lines = captured.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { error: error as ImagineError, lines, output: captured.output() };
}

describe('authentication refusals', () => {
  it.each([
    ['no Authorization header', undefined, 'missing'],
    ['a header that is not Bearer', 'Basic YWxpY2U6c2VjcmV0', 'malformed'],
    ['an API key nobody issued', 'Bearer imk_NotAKeyAnyoneWasGiven0000000000000000000', 'unknown key'],
    ['a Firebase ID token that has expired', 'Bearer eyJ.expired.token', 'expired'],
  ])('logs the reason for %s at info, without the token', async (_name, authorization, reason) => {
    const { error, lines, output } = await refusal(authorization);
    expect(error.code).toBe('unauthorized');
    expect(lines).toEqual([expect.objectContaining({ level: 30, reason, msg: 'authentication refused' })]);
    const token = authorization?.split(' ')[1];
    if (token) expect(output).not.toContain(token);
  });

  it('tells a revoked key from an unknown one', async () => {
    services = await createTestServices();
    const key = await services.apiKeys.create('alice');
    await services.apiKeys.revoke(key.slice(0, 12));
    const { error, lines, output } = await refusal(`Bearer ${key}`);
    expect(error.code).toBe('unauthorized');
    expect(lines).toEqual([expect.objectContaining({ reason: 'revoked key' })]);
    expect(output).not.toContain(key);
  });

  it('says a non-key token was refused because Firebase is not configured', async () => {
    const { lines, output } = await refusal('Bearer eyJ.some.token', false);
    expect(lines).toEqual([expect.objectContaining({ reason: 'firebase not configured' })]);
    expect(output).not.toContain('eyJ.some.token');
  });

  it('logs no refusal when the token could not be checked: that is an outage, not a bad token', async () => {
    const { error, lines } = await refusal('Bearer eyJ.unreachable.token');
    expect(error.code).toBe('provider_unavailable');
    expect(lines).toEqual([]);
  });
});
