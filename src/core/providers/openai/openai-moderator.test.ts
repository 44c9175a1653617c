import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../../test-support/capturing-logger.ts';
import { rejectionOf } from '../../../test-support/rejection.ts';
import { ImagineError } from '../../errors/imagine-error.ts';
import { createOpenAIClient } from './openai-client.ts';
import { createOpenAIModerator } from './openai-moderator.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const openAIHost = 'https://api.openai.com';
const prompt = 'a duel with swords in a rainy alley, blood on the cobblestones, zq-marker-7731';

function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

/** A moderator whose log lines land in `lines`. */
function moderatorWith(failureMode: 'open' | 'closed') {
  const { logger, lines } = capturingLogger();
  const moderator = createOpenAIModerator({
    client: createOpenAIClient({ apiKey: 'sk-test-key', baseUrl: undefined }),
    failureMode,
    logger,
    timeoutMs: 2_000,
  });
  return { moderator, lines };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise);

describe('OpenAI moderator', () => {
  it('asks omni-moderation-latest and allows a clean prompt', async () => {
    const bodies: unknown[] = [];
    nock(openAIHost)
      .post('/v1/moderations', (body) => {
        bodies.push(body);
        return true;
      })
      .reply(200, fixture('moderation-clean.json'));
    const { moderator } = moderatorWith('closed');

    await expect(moderator.check('a lighthouse at sunset')).resolves.toBeUndefined();
    expect(bodies).toEqual([{ model: 'omni-moderation-latest', input: 'a lighthouse at sunset' }]);
  });

  it('refuses a flagged prompt with content_policy_violation and logs the categories, not the prompt', async () => {
    nock(openAIHost).post('/v1/moderations').reply(200, fixture('moderation-flagged.json'));
    const { moderator, lines } = moderatorWith('open');

    const error = await rejection(moderator.check(prompt));

    expect(ImagineError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'content_policy_violation', httpStatus: 422 });
    const logged = lines.map((line) => JSON.parse(line) as { level: number; categories?: string[] });
    expect(logged).toEqual([
      expect.objectContaining({ level: 30, categories: ['violence', 'violence/graphic'] }),
    ]);
    expect(lines.join('')).not.toContain('zq-marker-7731');
    expect(lines.join('')).not.toContain('cobblestones');
  });

  it('allows the prompt and warns (without it) when moderation fails and the failure mode is open', async () => {
    nock(openAIHost).post('/v1/moderations').reply(500, fixture('error-500.json'));
    const { moderator, lines } = moderatorWith('open');

    await expect(moderator.check(prompt)).resolves.toBeUndefined();

    const logged = lines.map((line) => JSON.parse(line) as { level: number; reason?: string });
    expect(logged).toEqual([expect.objectContaining({ level: 40, reason: 'InternalServerError 500' })]);
    expect(lines.join('')).not.toContain('zq-marker-7731');
  });

  it('refuses with provider_unavailable when moderation fails and the failure mode is closed', async () => {
    nock(openAIHost).post('/v1/moderations').reply(500, fixture('error-500.json'));
    const { moderator, lines } = moderatorWith('closed');

    const error = await rejection(moderator.check(prompt));

    expect(error).toMatchObject({ code: 'provider_unavailable', httpStatus: 503 });
    expect(lines.join('')).not.toContain('zq-marker-7731');
  });

  it('treats a connection failure like any other failure', async () => {
    nock(openAIHost)
      .post('/v1/moderations')
      .replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    const { moderator } = moderatorWith('closed');

    const error = await rejection(moderator.check(prompt));

    expect(error).toMatchObject({ code: 'provider_unavailable' });
  });

  it('treats an answer without results as a failure', async () => {
    nock(openAIHost)
      .post('/v1/moderations')
      .reply(200, { id: 'modr-empty', model: 'omni-moderation-latest' });
    const { moderator } = moderatorWith('closed');

    const error = await rejection(moderator.check(prompt));

    expect(error).toMatchObject({ code: 'provider_unavailable' });
  });
});
