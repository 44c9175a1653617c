import OpenAI from 'openai';

/** What an OpenAI client needs: the key, and another OpenAI-compatible server's base URL if any. */
export interface OpenAIClientSettings {
  apiKey: string;
  /** `OPENAI_BASE_URL`, e.g. `http://localhost:11434/v1`; undefined for api.openai.com. */
  baseUrl: string | undefined;
}

/**
 * An OpenAI SDK client for our adapters. `maxRetries: 0` because `callWithRetries` already retries with
 * the deadline, Retry-After and fallback rules the core relies on; the SDK's own two retries would run
 * inside each of our attempts, multiplying calls (and charges) and hiding the first failure's kind.
 * `baseURL` is passed explicitly (null means the default host) so the SDK never reads
 * `OPENAI_BASE_URL` from the environment behind the configuration's back.
 */
export function createOpenAIClient(settings: OpenAIClientSettings): OpenAI {
  return new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseUrl ?? null,
    maxRetries: 0,
  });
}
