/** Chat jobs a crashed process left are handed to their bot, which delivers them or lets them go. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { createTestServices, onePng, scriptedModel } from '../../test-support/test-services.ts';
import { type RecoveredChatJob, storedChatJob } from './chat-images.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

/** What a process killed mid-generation leaves: a running chat job with a quota hold. */
async function leaveCrashedChatJob(target: unknown): Promise<string> {
  if (!services) throw new Error('no services');
  return await leaveCrashedJob(services, {
    userId: 'discord:42',
    source: 'discord',
    delivery: 'chat',
    request: storedChatJob({
      kind: 'image',
      request: { prompt: 'a lighthouse', size: '256x256', enhance_prompt: false },
      identity: 'discord:42',
      place: { scopeKey: undefined, scopeLimit: undefined },
      source: 'discord',
      target,
    }),
    hold: { userLimit: 3 },
  });
}

async function settled(jobId: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const job = await services?.jobStore.get(jobId, 'discord:42');
    if (job?.status === 'succeeded' || job?.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the recovered job did not end');
}

describe('chat job recovery', () => {
  it('hands the job to its bot with the stored target; a rerun is charged once', async () => {
    services = await createTestServices({}, { models: [scriptedModel(onePng)] });
    const handed: RecoveredChatJob[] = [];
    const delivered: number[] = [];
    services.chatImages.onRecovered('discord', async (job) => {
      handed.push(job);
      const outcome = await job.rerun();
      delivered.push(outcome.images.length);
    });
    const jobId = await leaveCrashedChatJob({ interactionToken: 'token-1', channelId: '7' });
    expect(await services.ledger.usage('discord:42', 3)).toMatchObject({ reserved: 1 });

    expect(await services.jobs.recover()).toBe(1);
    expect((await settled(jobId)).status).toBe('succeeded');
    expect(handed.map((job) => job.target)).toEqual([{ interactionToken: 'token-1', channelId: '7' }]);
    expect(delivered).toEqual([1]);
    expect(await services.ledger.usage('discord:42', 3)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('ends a job its bot cannot deliver any more, with nothing charged', async () => {
    services = await createTestServices({}, { models: [scriptedModel(onePng)] });
    services.chatImages.onRecovered('discord', async (job) => job.abandon('too late to reply'));
    const jobId = await leaveCrashedChatJob({ interactionToken: 'expired' });
    await services.jobs.recover();
    const job = await settled(jobId);
    expect(job).toMatchObject({
      status: 'failed',
      result: { error: 'provider_unavailable', message: 'too late to reply' },
    });
    expect(await services.ledger.usage('discord:42', 3)).toMatchObject({ used: 0, reserved: 0 });
  });

  it('closes the job when no bot takes it up', async () => {
    services = await createTestServices({}, { models: [scriptedModel(onePng)] });
    const jobId = await leaveCrashedChatJob(null);
    await services.jobs.recover();
    expect((await settled(jobId)).status).toBe('failed');
    expect(await services.ledger.pendingReservationIds()).toEqual([]);
  });
});
