import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { chainModerators } from './moderation-chain.ts';
import { createBlocklistModerator } from './prompt-moderation.ts';

describe('chainModerators', () => {
  it('stops at the first refusal, logs which moderator refused, and never the prompt', async () => {
    const { logger, lines } = capturingLogger();
    const calls: string[] = [];
    const chain = chainModerators(
      [
        { name: 'blocklist', moderator: createBlocklistModerator(['forbidden']) },
        { name: 'openai', moderator: { check: async (prompt) => void calls.push(prompt) } },
      ],
      logger,
    );
    await expect((async () => chain.check('a forbidden secret garden'))()).rejects.toMatchObject({
      code: 'content_policy_violation',
    });
    expect(calls).toEqual([]);
    expect(lines.join('')).toContain('"moderator":"blocklist"');
    expect(lines.join('')).not.toContain('secret garden');
    await chain.check('a quiet garden');
    expect(calls).toEqual(['a quiet garden']);
  });

  it('skips only the relaxable blocklist when a chat place relaxes it; the rest still runs', async () => {
    const { logger } = capturingLogger();
    const calls: string[] = [];
    const chain = chainModerators(
      [
        { name: 'blocklist', moderator: createBlocklistModerator(['gore']), relaxable: true },
        { name: 'openai', moderator: { check: async (prompt) => void calls.push(prompt) } },
      ],
      logger,
    );
    await chain.check('a gore poster', { relaxBlocklist: true });
    expect(calls).toEqual(['a gore poster']);
    expect(() => chain.check('a gore poster')).toThrow(/term this service does not allow/);
  });

  it('passes other errors on unchanged', async () => {
    const { logger } = capturingLogger();
    const outage = new ImagineError('provider_unavailable');
    const chain = chainModerators(
      [{ name: 'openai', moderator: { check: async () => Promise.reject(outage) } }],
      logger,
    );
    await expect((async () => chain.check('x'))()).rejects.toBe(outage);
  });
});
