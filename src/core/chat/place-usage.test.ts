/**
 * `/imagine-admin usage` counts what the ledger charged at the place: every generation kind (new images, a
 * batch, Reroll, Vary, Remix, Upscale) and a job recovered after a crash; refusals and failures count nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import {
  imageInputEnvironment,
  imageInputProvider,
  imageInputStandIns,
} from '../../test-support/image-input-stand-ins.ts';
import { createTestServices } from '../../test-support/test-services.ts';
import { type ChatCallContext, type ChatPlace, storedChatJob } from './chat-images.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

const place: ChatPlace = { scopeKey: 'discord-guild:9', scopeLimit: undefined };
const elsewhere: ChatPlace = { scopeKey: 'discord-guild:10', scopeLimit: undefined };
const call: ChatCallContext = { source: 'discord', abortSignal: undefined };
const moderator = { identity: 'discord:900', scopeKey: 'discord-guild:9' };

async function settled(jobId: string, userId: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const job = await services?.jobStore.get(jobId, userId);
    if (job?.status === 'succeeded' || job?.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the recovered job did not end');
}

describe('a place’s month for /imagine-admin usage', () => {
  it('counts every charged kind and a recovered job, exactly as the ledger charged them', async () => {
    services = await createTestServices(
      { ...imageInputEnvironment, PLAN_LIMITS: 'guest=5' },
      { providers: [imageInputProvider], models: Object.values(imageInputStandIns()) },
    );
    const { chatImages } = services;
    const made = await chatImages.create('discord:1', place, { text: 'a red fox', enhance: false }, call);
    const source = made.images[0];
    if (!source) throw new Error('no source image');
    const record = await chatImages.find('discord:1', source.id);
    await chatImages.create('discord:1', place, { text: 'two owls', count: 2, enhance: false }, call);
    await chatImages.again('discord:2', place, record, 'reroll', call);
    await chatImages.vary('discord:2', place, 'discord:1', source.id, 'subtle', call);
    await chatImages.remix('discord:2', place, 'discord:1', source.id, 'a red fox, as a woodcut', call);
    await chatImages.upscale('discord:2', place, 'discord:1', source.id, 2, call);
    // Elsewhere counts there, not here; a refused generation counts nowhere.
    await chatImages.vary('discord:3', elsewhere, 'discord:1', source.id, 'strong', call);
    await expect(
      chatImages.vary('discord:2', place, 'discord:1', 'no-such-image', 'subtle', call),
    ).rejects.toMatchObject({ code: 'not_found' });

    // A chat job a crash left at this place, made again by its bot after the restart.
    chatImages.onRecovered('discord', async (job) => {
      await job.rerun();
    });
    const jobId = await leaveCrashedJob(services, {
      userId: 'discord:2',
      source: 'discord',
      delivery: 'chat',
      request: storedChatJob({
        kind: 'image',
        request: { prompt: 'a lighthouse', size: '256x256', enhance_prompt: false },
        identity: 'discord:2',
        place,
        source: 'discord',
        target: null,
      }),
      hold: { userLimit: 5 },
    });
    await services.jobs.recover();
    expect((await settled(jobId, 'discord:2')).status).toBe('succeeded');

    expect(await services.ledger.usage('discord:1', 5)).toMatchObject({ used: 3, reserved: 0 });
    expect(await services.ledger.usage('discord:2', 5)).toMatchObject({ used: 5, reserved: 0 });
    expect(await chatImages.admin.placeUsage(moderator)).toMatchObject({
      images: 8,
      top: [
        { identity: 'discord:2', images: 5 },
        { identity: 'discord:1', images: 3 },
      ],
    });

    // At the limit, a refused press charges nothing and counts nothing.
    await expect(
      chatImages.upscale('discord:2', place, 'discord:1', source.id, 2, call),
    ).rejects.toMatchObject({ code: 'graphics_limit_reached' });
    expect((await chatImages.admin.placeUsage(moderator)).images).toBe(8);
  });
});
