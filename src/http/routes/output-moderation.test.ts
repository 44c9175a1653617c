import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test-support/test-app.ts';
import { onePng, scriptedModel, storedImageFiles } from '../../test-support/test-services.ts';

const flagged = JSON.parse(
  readFileSync(
    path.join(import.meta.dirname, '__fixtures__', 'openai-moderation-image-flagged.json'),
    'utf8',
  ),
) as object;

let current: TestApp | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('OUTPUT_MODERATION=on', () => {
  it('a flagged image is not stored, recorded or charged, and the answer says why in general terms', async () => {
    current = await createTestApp(
      { OPENAI_API_KEY: 'sk-test-key', MODERATION: 'off', OUTPUT_MODERATION: 'on' },
      { models: [scriptedModel(onePng)] },
    );
    nock('https://api.openai.com').post('/v1/moderations').reply(200, flagged);
    const response = await current.app.inject({
      method: 'POST',
      url: '/api/v1/generate/image',
      payload: { prompt: 'a lighthouse', size: '256x256' },
      headers: { authorization: await current.bearerFor('alice') },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      error: 'content_policy_violation',
      message:
        'The image that came back did not pass the content policy, so it was not kept. You were not charged.',
      stage: 'output',
    });
    expect(await current.services.ledger.usage('alice', 5)).toMatchObject({ used: 0, reserved: 0 });
    expect(
      (await current.services.records.listForUser('alice', { limit: 5, cursor: undefined })).records,
    ).toEqual([]);
    expect(storedImageFiles(current.services)).toEqual([]);
  });
});
