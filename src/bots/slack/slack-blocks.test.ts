import { describe, expect, it } from 'vitest';
import type { ShownImage } from '../../core/chat/shown-image.ts';
import { detailsMessage, escapeAndTruncate, imageMessage } from './slack-blocks.ts';

/** Block Kit refuses a message whose any text object is longer than this. */
const blockKitTextLimit = 3000;

function shown(prompt: string): ShownImage {
  return {
    id: 'gen-1',
    owner: 'slack:T1:U1',
    batchId: undefined,
    prompt,
    promptUsed: `${prompt}, highly detailed`,
    negativePrompt: prompt,
    style: undefined,
    model: 'placeholder',
    seed: 7,
    width: 1360,
    height: 768,
    quality: 'high',
    seconds: 1.2,
    warnings: [{ type: 'unsupported', feature: 'negative_prompt', detail: prompt }],
    imageUrl: 'https://imagine.example.com/images/x.png',
    contentType: 'image/png',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    parentId: undefined,
    kind: undefined,
  };
}

/** Every mrkdwn or plain text in a message's blocks. */
function texts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(texts);
  if (typeof value !== 'object' || value === null) return [];
  const object = value as Record<string, unknown>;
  const own = (object.type === 'mrkdwn' || object.type === 'plain_text') && typeof object.text === 'string';
  return [...(own ? [object.text as string] : []), ...Object.values(object).flatMap(texts)];
}

describe('escapeAndTruncate', () => {
  it('counts the escaped text against the limit and never cuts an entity in half', () => {
    for (let limit = 5; limit < 40; limit++) {
      const cut = escapeAndTruncate('<3 & >'.repeat(20), limit);
      expect(cut.length).toBeLessThanOrEqual(limit);
      expect(cut.endsWith('…')).toBe(true);
      // Whatever is left of an & is a whole entity.
      expect(cut.replace(/&(?:lt|gt|amp);/g, '')).not.toContain('&');
    }
    expect(escapeAndTruncate('a<b', 10)).toBe('a&lt;b');
  });

  it('does not leave half an emoji at the cut', () => {
    expect(escapeAndTruncate('ab🦊cd', 4)).toBe('ab…');
  });
});

describe('Slack messages with a long prompt of markup characters', () => {
  it('keep every text within Block Kit’s 3,000 characters', () => {
    const prompt = '<3'.repeat(1000);
    for (const message of [
      imageMessage(shown(prompt), { kind: 'imagine', userId: 'U1' }),
      detailsMessage(shown(prompt), true),
    ]) {
      const all = texts(message.blocks);
      expect(all.length).toBeGreaterThan(2);
      for (const text of all) expect(text.length).toBeLessThanOrEqual(blockKitTextLimit);
      expect(message.text).not.toContain('<');
    }
  });
});

describe('Slack Details', () => {
  it('says where an image came from, and nothing of the kind for one drawn from text', () => {
    const variation = {
      ...shown('a fox'),
      parentId: '0190a1b2-0000-7000-8000-00000000abcd',
      kind: 'variation' as const,
    };
    expect(texts(detailsMessage(variation, false).blocks).join('\n')).toContain(
      '*Made from*\nA variation of image 0190a1b2-0000-7000-8000-00000000abcd',
    );
    expect(texts(detailsMessage(shown('a fox'), false).blocks).join('\n')).not.toContain('Made from');
  });
});
