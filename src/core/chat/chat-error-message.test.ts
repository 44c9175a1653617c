import { describe, expect, it } from 'vitest';
import { ImagineError } from '../errors/imagine-error.ts';
import { chatErrorMessage, slackTerms } from './chat-error-message.ts';

const now = new Date('2026-03-10T12:00:00Z');

describe('chatErrorMessage', () => {
  it("words a used-up quota with the numbers, the reset date and the way to link, in each platform's terms", () => {
    const limit = new ImagineError('graphics_limit_reached', undefined, { used: 3, limit: 3 });
    expect(chatErrorMessage(limit, now)).toBe(
      'You have used all your images for this month (3/3). Your quota resets on April 1. Link your app account with /link to use its plan.',
    );
    expect(chatErrorMessage(limit, now, slackTerms)).toContain('with /imagine-link to use its plan');
    const cap = new ImagineError('scope_limit_reached', undefined, { used: 50, limit: 50 });
    expect(chatErrorMessage(cap, now)).toMatch(/^This server has used all 50/);
    expect(chatErrorMessage(cap, now, slackTerms)).toMatch(/^This workspace has used all 50/);
  });

  it('says which model cannot take an image and which one can, at no charge', () => {
    const unsupported = new ImagineError('unsupported_by_model', undefined, {
      model: 'dall-e-3',
      feature: 'image_to_image',
      models: ['flux-dev', 'gpt-image-1'],
    });
    expect(chatErrorMessage(unsupported, now)).toBe(
      'The dall-e-3 model cannot work from an image. Try --model flux-dev. You were not charged.',
    );
  });

  it('says a daily allowance is used up and how long until it comes back', () => {
    const daily = new ImagineError('graphics_limit_reached', 'Daily graphics limit reached: 20 images', {
      used: 20,
      limit: 20,
      limit_period: 'day',
      resets_at: '2026-03-11T00:00:00Z',
    });
    expect(chatErrorMessage(daily, now)).toBe(
      'You have used all your images for today (20/20). Your daily allowance comes back in 12 h (at 00:00 UTC).',
    );
    expect(chatErrorMessage(daily, new Date('2026-03-10T22:35:10Z'))).toContain(
      'in 1 h 25 min (at 00:00 UTC)',
    );
  });

  it('says when to come back and that nothing was charged when the provider is down', () => {
    const down = new ImagineError('provider_unavailable', undefined, { retry_after: 42 });
    expect(chatErrorMessage(down, now)).toBe(
      'The image provider is not available right now. Try again in 42 s. You were not charged.',
    );
    const full = new ImagineError('storage_unavailable', undefined, { retry_after: 30 });
    expect(chatErrorMessage(full, now)).toBe(
      "Images cannot be saved right now (the server's disk is full or failing). Try again in 30 s. You were not charged.",
    );
  });

  it("never shows an unexpected error's own text", () => {
    expect(chatErrorMessage(new Error('SQLITE_BUSY: database is locked at /srv/data'), now)).toBe(
      'Something went wrong on our side. You were not charged; please try again.',
    );
  });
});
