/**
 * `/imagine-admin grant` raises the month's limit of the account the person draws on, and the same account
 * used over REST (an API key or a Firebase ID token) gets those images too: the 402 and GET /usage agree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FirebaseTokenVerifier } from '../../core/accounts/firebase-token-verifier.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { onePng, scriptedModel } from '../../test-support/test-services.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

/** A stand-in for Firebase's verifier: `eyJ.<uid>` is a good token for that uid. */
const firebaseTokens: FirebaseTokenVerifier = {
  async verify(idToken) {
    const uid = /^eyJ\.([a-z]+)$/.exec(idToken)?.[1];
    if (!uid) throw new ImagineError('unauthorized');
    return { uid, plan: 'pro', email: undefined };
  },
};

const moderator = { identity: 'discord:900', scopeKey: 'discord-guild:7' };

describe('images an admin granted in chat, over REST', () => {
  it.each([
    ['an API key', (app: TestApp) => app.bearerFor('alice', 'pro')],
    ['a Firebase ID token', () => 'Bearer eyJ.alice'],
  ])('count in the limit of %s whose account is linked to the granted member', async (_door, bearer) => {
    current = await createTestApp(
      { PLAN_LIMITS: 'pro=2/month', RATE_LIMIT_PER_MINUTE: '1000' },
      { models: [scriptedModel(onePng)], firebaseTokens },
    );
    const testApp = current;
    const authorization = await bearer(testApp);
    await testApp.services.accounts.ensureUser('alice', 'pro');
    await testApp.services.accounts.link('discord:42', 'alice');
    await testApp.services.chatImages.admin.grant(moderator, 'discord:42', 3);

    const usage = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/usage',
      headers: { authorization },
    });
    expect(usage.json()).toMatchObject({ plan: 'pro', used: 0, limit: 5, remaining: 5 });

    const statuses: number[] = [];
    let refusal: unknown;
    for (let attempt = 0; attempt < 6; attempt++) {
      const response = await testApp.app.inject({
        method: 'POST',
        url: '/api/v1/generate/image',
        payload: { prompt: `fox ${attempt}`, size: '256x256', enhance_prompt: false },
        headers: { authorization },
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 402) refusal = response.json();
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 402]);
    expect(refusal).toEqual({
      error: 'graphics_limit_reached',
      message: 'Monthly graphics limit reached: 5 images',
      used: 5,
      limit: 5,
    });
    const after = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/usage',
      headers: { authorization },
    });
    expect(after.json()).toMatchObject({ used: 5, limit: 5, remaining: 0 });
    // Chat's /usage reads the same limit for the linked member.
    expect(await testApp.services.chatImages.usage('discord:42')).toMatchObject({
      used: 5,
      limit: 5,
      remaining: 0,
    });
  });
});
