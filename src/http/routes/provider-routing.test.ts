/** Model routing through the API: fallbacks serve when a provider is down, refusals do not fall back. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderCallError, type ProviderFailureKind } from '../../core/providers/provider-error.ts';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { onePng, scriptedModel, storedImageFiles } from '../../test-support/test-services.ts';

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

function failingModel(modelId: string, kind: ProviderFailureKind, retryAfterSeconds?: number) {
  return scriptedModel(() => {
    throw new ProviderCallError(kind, `scripted ${kind} from ${modelId}`, {
      provider: 'test',
      retryAfterSeconds,
    });
  }, modelId);
}

async function generate(testApp: TestApp, body: object = { prompt: 'a lighthouse' }) {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    payload: body,
    headers: { authorization: await testApp.bearerFor('alice') },
  });
}

describe('model routing', () => {
  it.each(['unavailable', 'rate_limited', 'timeout', 'network', 'credentials'] as const)(
    'falls back to the next model when the first fails with %s, and says which model served',
    async (kind) => {
      const fallback = scriptedModel(onePng, 'flux-dev');
      current = await createTestApp(
        { IMAGE_MODEL: 'flux-schnell', IMAGE_FALLBACK_MODELS: 'flux-dev' },
        { models: [failingModel('flux-schnell', kind), fallback] },
      );
      const response = await generate(current);
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ model: 'flux-dev', cost: 0.025 });
      expect(fallback.calls).toHaveLength(1);
      expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 1, reserved: 0 });
    },
  );

  it('does not fall back on a safety refusal: 422, nothing charged, nothing stored', async () => {
    const fallback = scriptedModel(onePng, 'flux-dev');
    current = await createTestApp(
      { IMAGE_MODEL: 'flux-schnell', IMAGE_FALLBACK_MODELS: 'flux-dev' },
      { models: [failingModel('flux-schnell', 'safety'), fallback] },
    );
    const response = await generate(current);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: 'content_policy_violation' });
    expect(response.body).not.toContain('scripted');
    expect(fallback.calls).toHaveLength(0);
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
    expect(storedImageFiles(current.services)).toEqual([]);
  });

  it('answers 503 with Retry-After when every model is down, charging and storing nothing', async () => {
    current = await createTestApp(
      { IMAGE_MODEL: 'flux-schnell', IMAGE_FALLBACK_MODELS: 'flux-dev' },
      { models: [failingModel('flux-schnell', 'unavailable'), failingModel('flux-dev', 'rate_limited', 42)] },
    );
    const response = await generate(current);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('42');
    expect(response.json()).toEqual({
      error: 'provider_unavailable',
      message: 'The image provider is unavailable right now; try again shortly',
      retry_after: 42,
    });
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
    expect(storedImageFiles(current.services)).toEqual([]);
  });

  it("skips a fallback the caller's plan does not include", async () => {
    const premium = scriptedModel(onePng, 'dall-e-3');
    current = await createTestApp(
      { IMAGE_MODEL: 'flux-schnell', IMAGE_FALLBACK_MODELS: 'dall-e-3' },
      { models: [failingModel('flux-schnell', 'unavailable'), premium] },
    );
    const response = await generate(current);
    expect(response.statusCode).toBe(503);
    expect(premium.calls).toHaveLength(0);
  });

  it('holds quota at the dearest model on the route, so a fallback cannot overrun the budget', async () => {
    current = await createTestApp(
      { IMAGE_MODEL: 'flux-schnell', IMAGE_FALLBACK_MODELS: 'flux-1.1-pro', MONTHLY_BUDGET_USD: '0.03' },
      { models: [scriptedModel(onePng, 'flux-schnell'), scriptedModel(onePng, 'flux-1.1-pro')] },
    );
    const response = await generate(current);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: 'budget_exhausted' });
  });
});
