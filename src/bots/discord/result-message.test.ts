import { describe, expect, it } from 'vitest';
import type { GenerationRecord } from '../../core/generation/generation-records.ts';
import { detailsMessage } from './result-message.ts';

function record(lineage: Pick<GenerationRecord, 'parentId' | 'kind'>): GenerationRecord {
  return {
    id: '0190a1b2-0000-7000-8000-00000000beef',
    userId: 'discord:42',
    batchId: undefined,
    source: 'discord',
    prompt: 'a fox',
    promptUsed: 'a fox, highly detailed',
    negativePrompt: undefined,
    style: undefined,
    model: 'placeholder',
    seed: 7,
    width: 2048,
    height: 2048,
    quality: 'high',
    costUsd: 0,
    generationMs: 900,
    storageKey: 'images/discord_42/x.png',
    imageUrl: 'https://imagine.example.com/images/x.png',
    contentType: 'image/png',
    providerRequestId: undefined,
    warnings: [],
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...lineage,
  };
}

describe('Discord Details', () => {
  it('says where an image came from, and nothing of the kind for one drawn from text', () => {
    const upscale = detailsMessage(
      record({ parentId: '0190a1b2-0000-7000-8000-00000000abcd', kind: 'upscale' }),
    );
    expect(upscale.embeds?.[0]?.fields).toContainEqual({
      name: 'Made from',
      value: 'An upscale of image 0190a1b2-0000-7000-8000-00000000abcd',
    });
    const text = detailsMessage(record({ parentId: undefined, kind: undefined }));
    expect(text.embeds?.[0]?.fields?.map((field) => field.name)).not.toContain('Made from');
  });
});
