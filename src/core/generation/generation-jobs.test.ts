import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import { createTestServices, onePng, scriptedModel } from '../../test-support/test-services.ts';
import { newRecordId } from '../database/record-id.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

describe('GenerationJobs', () => {
  it('tells a chat job waiting on its user’s job in another process where it stands, then when it starts', async () => {
    const model = scriptedModel(() => onePng());
    services = await createTestServices({ MAX_JOBS_PER_USER: '1' }, { models: [model] });
    const caller = await services.accounts.chatCaller('discord:4242');
    // Another process (another host's worker) is running this user's one allowed job.
    const elsewhere = {
      id: newRecordId(new Date()),
      userId: caller.userId,
      kind: 'image' as const,
      source: 'discord',
      delivery: 'chat' as const,
      request: null,
      status: 'running' as const,
      workerId: 'other-host:4321:0a1b2c',
      now: new Date(),
    };
    await services.jobStore.insert(elsewhere);

    const positions: number[] = [];
    let heardFirst: () => void = () => undefined;
    const queued = new Promise<void>((resolve) => {
      heardFirst = resolve;
    });
    const done = services.generationJobs.forChat({
      task: { kind: 'image', input: { prompt: 'a patient fox' } },
      context: { caller, source: 'discord', scope: undefined, abortSignal: undefined },
      stored: {},
      listener: {
        onQueued: (position) => {
          positions.push(position);
          heardFirst();
        },
      },
    });
    await queued;
    expect(positions).toEqual([1]);
    expect(model.calls).toHaveLength(0);

    // The other process's job ends: this one takes the slot, says so, and is made and charged.
    await services.jobStore.finish(elsewhere.id, { status: 'succeeded', httpStatus: 201 }, new Date());
    const outcome = await done;
    expect(outcome.images).toHaveLength(1);
    expect(positions).toEqual([1, 0]);
    expect(model.calls).toHaveLength(1);
    expect((await services.ledger.usage(caller.userId, caller.plan.monthlyImages)).used).toBe(1);
  });
});
