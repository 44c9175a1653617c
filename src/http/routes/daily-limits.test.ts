import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { onePng, scriptedModel } from '../../test-support/test-services.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('daily and monthly allowances over the REST API', () => {
  it('200 concurrent requests never pass either limit, and the 402 says which one and when it resets', async () => {
    let now = new Date('2026-03-10T15:30:00Z');
    const model = scriptedModel(onePng);
    current = await createTestApp(
      { PLAN_LIMITS: 'pro=30/month+20/day', RATE_LIMIT_PER_MINUTE: '1000', MAX_JOBS_PER_USER: '200' },
      { models: [model], now: () => now },
    );
    const testApp = current;
    const authorization = await testApp.bearerFor('alice', 'pro');
    const burst = () =>
      Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          testApp.app.inject({
            method: 'POST',
            url: '/api/v1/generate/image',
            payload: { prompt: `fox ${index}`, size: '256x256', enhance_prompt: false },
            headers: { authorization },
          }),
        ),
      );

    const today = await burst();
    expect(today.filter((response) => response.statusCode === 201)).toHaveLength(20);
    const refusedToday = today.filter((response) => response.statusCode === 402);
    expect(refusedToday).toHaveLength(180);
    expect(refusedToday[0]?.json()).toEqual({
      error: 'graphics_limit_reached',
      message: 'Daily graphics limit reached: 20 images',
      used: 20,
      limit: 20,
      limit_period: 'day',
      resets_at: '2026-03-11T00:00:00Z',
      retry_after: 30_600,
    });
    expect(refusedToday[0]?.headers['retry-after']).toBe('30600');
    const usage = await testApp.app.inject({
      method: 'GET',
      url: '/api/v1/usage',
      headers: { authorization },
    });
    expect(usage.json()).toMatchObject({
      used: 20,
      limit: 30,
      remaining: 10,
      daily: { used: 20, limit: 20, remaining: 0, resets_at: '2026-03-11T00:00:00Z' },
    });

    // The next day the month runs out first: its 402 is byte for byte the contract's.
    now = new Date('2026-03-11T09:00:00Z');
    const tomorrow = await burst();
    expect(tomorrow.filter((response) => response.statusCode === 201)).toHaveLength(10);
    const refusedTomorrow = tomorrow.filter((response) => response.statusCode === 402);
    expect(refusedTomorrow).toHaveLength(190);
    expect(refusedTomorrow[0]?.body).toBe(
      '{"error":"graphics_limit_reached","message":"Monthly graphics limit reached: 30 images","used":30,"limit":30}',
    );
    expect(await testApp.services.ledger.usage('alice', 30, 20)).toMatchObject({
      used: 30,
      reserved: 0,
      daily: { used: 10, reserved: 0 },
    });
    expect(model.calls).toHaveLength(30);
  });
});
