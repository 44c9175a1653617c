import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../../test-support/capturing-logger.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import { createOpenAIClient } from './openai-client.ts';
import { createOpenAIImageModerator } from './openai-image-moderator.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as object;
const image = { bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), mediaType: 'image/png' as const };

function moderator(failureMode: 'open' | 'closed') {
  const { logger, lines } = capturingLogger();
  return {
    lines,
    moderator: createOpenAIImageModerator({
      client: createOpenAIClient({ apiKey: 'sk-test-key', baseUrl: undefined }),
      failureMode,
      logger,
      timeoutMs: 2_000,
    }),
  };
}

describe('OpenAI image moderator', () => {
  it('sends the image as a data URL to omni-moderation-latest and passes a clean one', async () => {
    const bodies: unknown[] = [];
    nock('https://api.openai.com')
      .post('/v1/moderations', (body) => bodies.push(body) > 0)
      .reply(200, fixture('moderation-clean.json'));
    await expect(moderator('closed').moderator.check(image)).resolves.toBeUndefined();
    expect(bodies).toEqual([
      {
        model: 'omni-moderation-latest',
        input: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw==' } }],
      },
    ]);
  });

  it('withholds a flagged image with content_policy_violation at the output stage, logging only categories', async () => {
    nock('https://api.openai.com')
      .post('/v1/moderations')
      .reply(200, fixture('moderation-image-flagged.json'));
    const { moderator: check, lines } = moderator('open');
    const error = await rejectionOf(check.check(image));
    expect(error).toMatchObject({ code: 'content_policy_violation', context: { stage: 'output' } });
    expect(lines.join('')).toContain('"categories":["sexual"]');
    expect(lines.join('')).not.toContain('iVBOR');
  });

  it('follows MODERATION_ON_ERROR when OpenAI cannot be asked', async () => {
    nock('https://api.openai.com').post('/v1/moderations').times(2).reply(500, fixture('error-500.json'));
    await expect(moderator('open').moderator.check(image)).resolves.toBeUndefined();
    expect(await rejectionOf(moderator('closed').moderator.check(image))).toMatchObject({
      code: 'provider_unavailable',
    });
  });
});
