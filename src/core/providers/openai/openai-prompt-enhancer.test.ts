import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../../test-support/capturing-logger.ts';
import { enhancePrompt, type PromptEnhancementInput } from '../../prompt/prompt-enhancer.ts';
import { findStylePreset } from '../../styles/style-presets.ts';
import { createOpenAIClient } from './openai-client.ts';
import { createOpenAIPromptEnhancer } from './openai-prompt-enhancer.ts';

const fixtures = path.join(import.meta.dirname, '__fixtures__');
const openAIHost = 'https://api.openai.com';

interface ChatCompletionFixture {
  choices: { message: { content: string } }[];
}

function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}

function input(overrides: Partial<PromptEnhancementInput> = {}): PromptEnhancementInput {
  return {
    prompt: 'a fox in the snow',
    style: findStylePreset('anime'),
    enhance: true,
    negativePrompt: 'people',
    ...overrides,
  };
}

/** An enhancer whose log lines land in `lines`. */
function enhancerWith(timeoutMs = 2_000) {
  const { logger, lines } = capturingLogger();
  const enhancer = createOpenAIPromptEnhancer({
    client: createOpenAIClient({ apiKey: 'sk-test-key', baseUrl: undefined }),
    timeoutMs,
    logger,
  });
  return { enhancer, lines };
}

function warnings(lines: string[]): { reason?: string }[] {
  return lines
    .map((line) => JSON.parse(line) as { level: number; reason?: string })
    .filter((line) => line.level === 40);
}

describe('OpenAI prompt enhancer', () => {
  it('rewrites the prompt with the chat model, then adds the style terms and negative prompt', async () => {
    const bodies: Record<string, unknown>[] = [];
    nock(openAIHost)
      .post('/v1/chat/completions', (body: Record<string, unknown>) => {
        bodies.push(body);
        return true;
      })
      .reply(200, fixture('chat-completion-enhanced.json'));
    const rewritten = fixture<ChatCompletionFixture>('chat-completion-enhanced.json').choices[0]?.message
      .content;
    if (!rewritten) throw new Error('fixture has no answer');

    const { enhancer, lines } = enhancerWith();
    const result = await enhancer.enhance(input());

    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.3, max_tokens: 150 });
    expect(bodies[0]?.messages).toEqual([
      { role: 'system', content: expect.stringContaining('80 words') },
      { role: 'user', content: 'a fox in the snow' },
    ]);
    expect(result).toEqual(
      enhancePrompt({
        prompt: rewritten,
        style: findStylePreset('anime'),
        enhance: false,
        negativePrompt: 'people',
      }),
    );
    expect(result.promptUsed.startsWith(rewritten.replace(/\.$/u, ''))).toBe(true);
    expect(result.promptUsed).toContain('anime style');
    expect(result.negativePrompt).toMatch(/^people, photorealistic/u);
    expect(warnings(lines)).toEqual([]);
  });

  it('makes no call when enhance is off', async () => {
    const { enhancer } = enhancerWith();
    const request = input({ enhance: false });

    expect(await enhancer.enhance(request)).toEqual(enhancePrompt(request));
  });

  it('falls back to the rule-based prompt when the model is too slow', async () => {
    nock(openAIHost)
      .post('/v1/chat/completions')
      .delay(1_000)
      .reply(200, fixture('chat-completion-enhanced.json'));
    const { enhancer, lines } = enhancerWith(50);

    const startedAt = performance.now();
    const result = await enhancer.enhance(input());

    expect(result).toEqual(enhancePrompt(input()));
    expect(performance.now() - startedAt).toBeLessThan(900);
    expect(warnings(lines)).toEqual([expect.objectContaining({ reason: 'APIConnectionTimeoutError' })]);
  });

  it('falls back to the rule-based prompt on a 500', async () => {
    nock(openAIHost).post('/v1/chat/completions').reply(500, fixture('error-500.json'));
    const { enhancer, lines } = enhancerWith();

    expect(await enhancer.enhance(input())).toEqual(enhancePrompt(input()));
    expect(warnings(lines)).toEqual([expect.objectContaining({ reason: 'InternalServerError 500' })]);
    expect(lines.join('')).not.toContain('a fox in the snow');
  });

  it.each([
    ['empty', 'chat-completion-empty.json', 'the answer was empty'],
    ['over-long', 'chat-completion-too-long.json', 'the answer was too long'],
  ])('falls back to the rule-based prompt on an %s answer', async (_kind, name, reason) => {
    nock(openAIHost).post('/v1/chat/completions').reply(200, fixture(name));
    const { enhancer, lines } = enhancerWith();

    expect(await enhancer.enhance(input())).toEqual(enhancePrompt(input()));
    expect(warnings(lines)).toEqual([expect.objectContaining({ reason })]);
  });
});
