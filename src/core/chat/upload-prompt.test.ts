import { describe, expect, it } from 'vitest';
import { maximumPromptLength } from '../generation/generation-request.ts';
import { fallbackUploadPrompt, uploadPrompt } from './upload-prompt.ts';

describe('uploadPrompt', () => {
  it('takes the message text first, then a file title that says something', () => {
    expect(uploadPrompt(['  our new office, at dusk ', 'office.png'])).toBe('our new office, at dusk');
    expect(uploadPrompt(['', 'A lighthouse in a storm'])).toBe('A lighthouse in a storm');
  });

  it('passes over file names and empty text to a neutral prompt', () => {
    expect(uploadPrompt([undefined, 'IMG_2041.JPG'])).toBe(fallbackUploadPrompt);
    expect(uploadPrompt(['\u200b ', 'Screenshot 2026-03-01 at 10.00.00'])).toBe(fallbackUploadPrompt);
  });

  it('clips a long message to the longest prompt the core takes', () => {
    expect(uploadPrompt(['x'.repeat(maximumPromptLength + 50)])).toHaveLength(maximumPromptLength);
  });
});
