import { describe, expect, it } from 'vitest';
import { nsfwRules } from './nsfw-policy.ts';

describe('nsfwRules', () => {
  it('block keeps the blocklist everywhere; nsfw-channels relaxes it only where the channel is marked NSFW', () => {
    expect(nsfwRules('block', true)).toEqual({ relaxBlocklist: false, spoiler: false });
    expect(nsfwRules('nsfw-channels', true)).toEqual({ relaxBlocklist: true, spoiler: true });
    expect(nsfwRules('nsfw-channels', false)).toEqual({ relaxBlocklist: false, spoiler: false });
    // Slack has no NSFW flag: there nsfw-channels is block.
    expect(nsfwRules('nsfw-channels', undefined)).toEqual({ relaxBlocklist: false, spoiler: false });
    expect(nsfwRules('allow', undefined)).toEqual({ relaxBlocklist: true, spoiler: false });
    expect(nsfwRules('allow', true)).toEqual({ relaxBlocklist: true, spoiler: true });
  });
});
