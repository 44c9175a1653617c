import type OpenAI from 'openai';
import type { Logger } from 'pino';
import {
  type EnhancedPrompt,
  enhancePrompt,
  type PromptEnhancementInput,
} from '../../prompt/prompt-enhancer.ts';

/** A prompt enhancer that may ask a model; it always answers, falling back to the rule-based one. */
export interface AsyncPromptEnhancer {
  enhance(input: PromptEnhancementInput): Promise<EnhancedPrompt>;
}

/** What the LLM enhancer needs: a client (maxRetries 0), the chat model and how long to wait for it. */
export interface OpenAIPromptEnhancerSettings {
  client: OpenAI;
  model?: string;
  timeoutMs?: number;
  logger: Logger;
}

const systemPrompt = [
  "Rewrite the user's idea as one vivid prompt for an image generation model.",
  'Keep the subject and every detail the user gave; add concrete visual detail (setting, light, composition).',
  'Do not add an art style unless the user named one.',
  'Reply with the prompt only: one paragraph of at most 80 words, no preamble, no quotes, no lists.',
].join(' ');

// The model is asked for 80 words; a little slack, then anything longer is a ramble, not a prompt.
const mostWords = 110;
const mostCharacters = 1_000;

/**
 * With `enhance` on, asks a chat model to rewrite the user's prompt, then adds the style's terms and
 * negative prompt from the presets as the rule-based enhancer does. Any failure, a timeout, or an
 * empty or over-long answer falls back to the rule-based result, so generation never waits on it.
 */
export function createOpenAIPromptEnhancer(settings: OpenAIPromptEnhancerSettings): AsyncPromptEnhancer {
  const { client, logger } = settings;
  const model = settings.model ?? 'gpt-4o-mini';
  const timeoutMs = settings.timeoutMs ?? 5_000;

  async function rewrite(prompt: string): Promise<string> {
    const completion = await client.chat.completions.create(
      {
        model,
        temperature: 0.3,
        // max_tokens rather than max_completion_tokens: OpenAI-compatible servers all understand it.
        max_tokens: 150,
        messages: [
          { role: 'system', content: systemPrompt },
          { role: 'user', content: prompt },
        ],
      },
      { timeout: timeoutMs, maxRetries: 0 },
    );
    const choice = completion?.choices?.[0];
    if (choice?.finish_reason === 'length') throw new EnhancerAnswerError('the answer was cut off');
    const text = withoutWrappingQuotes(choice?.message?.content?.trim() ?? '');
    if (text.length === 0) throw new EnhancerAnswerError('the answer was empty');
    if (text.length > mostCharacters || text.split(/\s+/u).length > mostWords) {
      throw new EnhancerAnswerError('the answer was too long');
    }
    return text;
  }

  return {
    async enhance(input) {
      if (!input.enhance) return enhancePrompt(input);
      try {
        const rewritten = await rewrite(input.prompt);
        return enhancePrompt({
          prompt: rewritten,
          style: input.style,
          enhance: false,
          negativePrompt: input.negativePrompt,
        });
      } catch (error) {
        // Neither the prompt nor the model's answer is logged: both are the user's words.
        logger.warn(
          { reason: describeFailure(error), model },
          'LLM prompt enhancement failed; using the rule-based one',
        );
        return enhancePrompt(input);
      }
    },
  };
}

/** The model answered, but not with something usable as a prompt. */
class EnhancerAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnhancerAnswerError';
  }
}

function withoutWrappingQuotes(text: string): string {
  const quoted = /^(["'“])([\s\S]*)(["'”])$/u.exec(text);
  return quoted?.[2]?.trim() ?? text;
}

function describeFailure(error: unknown): string {
  if (error instanceof EnhancerAnswerError) return error.message;
  if (!(error instanceof Error)) return String(error);
  const status = 'status' in error && typeof error.status === 'number' ? ` ${error.status}` : '';
  // The SDK's error classes do not set `name`; their class names say what happened.
  const name = error.constructor.name === 'Error' ? error.name : error.constructor.name;
  return `${name}${status}`;
}
