import { describe, expect, it } from 'vitest';
import { ImagineError } from '../errors/imagine-error.ts';
import { createBlocklistModerator } from './prompt-moderation.ts';

function refusal(check: () => void): ImagineError | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (ImagineError.isInstance(error)) return error;
    throw error;
  }
}

describe('blocklist moderator', () => {
  const moderator = createBlocklistModerator(['gore', 'ass', 'blood bath', 'c++', 'straße']);

  it('refuses a prompt with a blocked word, in any case', () => {
    const error = refusal(() => moderator.check('A scene full of GORE'));
    expect(error?.code).toBe('content_policy_violation');
    expect(error?.httpStatus).toBe(422);
    expect(error?.message).not.toContain('gore');
  });

  it('matches whole words only', () => {
    expect(refusal(() => moderator.check('a classic class photo, gorealistic'))).toBeUndefined();
    expect(refusal(() => moderator.check('kick ass!'))?.code).toBe('content_policy_violation');
  });

  it('matches a multi-word term across any whitespace', () => {
    expect(refusal(() => moderator.check('a blood \n  bath at noon'))?.code).toBe('content_policy_violation');
    expect(refusal(() => moderator.check('a bloodbath at noon'))).toBeUndefined();
  });

  it('treats terms as literal text, not patterns', () => {
    expect(refusal(() => moderator.check('learn c++ today'))?.code).toBe('content_policy_violation');
    expect(refusal(() => moderator.check('learn cc today'))).toBeUndefined();
  });

  it('knows word boundaries outside ASCII and folds full-width letters', () => {
    expect(refusal(() => moderator.check('die STRASSE ist leer'))).toBeUndefined();
    expect(refusal(() => moderator.check('die Straße ist leer'))?.code).toBe('content_policy_violation');
    expect(refusal(() => moderator.check('Hauptstraße'))).toBeUndefined();
    expect(refusal(() => moderator.check('ｇｏｒｅ'))?.code).toBe('content_policy_violation');
  });

  it('allows everything when the list is empty', () => {
    expect(refusal(() => createBlocklistModerator([]).check('anything at all'))).toBeUndefined();
  });
});
