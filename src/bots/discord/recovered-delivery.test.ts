/**
 * Generations a crashed process left behind: the next process's start-up recovery hands them to the bot,
 * which delivers them where the user is still waiting, or ends them uncharged.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { storedChatJob } from '../../core/chat/chat-images.ts';
import { ProviderCallError } from '../../core/providers/provider-error.ts';
import type { ServiceOverrides, Services } from '../../services.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { sqliteOf } from '../../test-support/sqlite-of.ts';
import { scriptedModel } from '../../test-support/test-services.ts';
import { abandonedReason } from './recovered-delivery.ts';
import type { DiscordReplyTarget } from './reply-target.ts';
import { embedOf, eventually, ids, slashCommand, webhook } from './test-support/discord-test-kit.ts';
import { type HttpHarness, startHttpHarness } from './test-support/transport-harness.ts';

let current: HttpHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const ada = `discord:${ids.ada}`;
const minutes = (count: number) => count * 60_000;

async function harness(overrides: ServiceOverrides = {}): Promise<HttpHarness> {
  current = await startHttpHarness({}, overrides);
  return current;
}

/**
 * A chat job as a process that crashed mid-generation leaves it: running, under a worker that is gone
 * (another host, its heartbeat stale), created `ageMs` ago. Then the periodic recovery runs.
 */
async function crashedJob(services: Services, target: DiscordReplyTarget, ageMs: number): Promise<string> {
  const id = await leaveCrashedJob(services, {
    userId: ada,
    source: 'discord',
    delivery: 'chat',
    ageMs,
    request: storedChatJob({
      kind: 'image',
      request: { prompt: 'a lighthouse at dusk', size: '1024x1024', enhance_prompt: true },
      identity: ada,
      place: { scopeKey: undefined, scopeLimit: undefined },
      source: 'discord',
      target,
    }),
  });
  expect(await services.jobs.recover()).toBe(1);
  return id;
}

function targetFor(token: string, channelId?: string): DiscordReplyTarget {
  return {
    applicationId: ids.application,
    interactionToken: token,
    ...(channelId ? { channelId } : {}),
    requesterId: ids.ada,
    uploadLimitBytes: 25 * 1024 * 1024,
  };
}

function storedTargets(services: Services): unknown[] {
  return sqliteOf(services)
    .prepare<[], { request: string }>('SELECT request FROM jobs ORDER BY id')
    .all()
    .map((row) => (JSON.parse(row.request) as { chat?: { target?: unknown } }).chat?.target);
}

describe('Discord generations recovered after a crash', () => {
  it('stores where the reply goes on the job: the interaction token and, in a server, the channel', async () => {
    const testHarness = await harness();
    const inServer = slashCommand('imagine', { prompt: 'a fox' });
    const inDm = slashCommand('imagine', { prompt: 'an owl' }, { dm: true });
    for (const interaction of [inServer, inDm]) {
      const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
      const final = testHarness.api.expect('PATCH', webhook.original(interaction.token));
      await testHarness.send(interaction);
      await progress;
      await final;
    }
    await eventually(() => expect(storedTargets(testHarness.services)).toHaveLength(2));
    expect(storedTargets(testHarness.services)).toEqual([
      targetFor(inServer.token, ids.channel),
      // A DM through a user install: the bot token cannot post there.
      targetFor(inDm.token),
    ]);
  });

  it('while the token lasts: runs again and edits the deferred reply with the image, charged once', async () => {
    const testHarness = await harness();
    const token = 'crashed-interaction-token';
    const final = testHarness.api.expect('PATCH', webhook.original(token));
    const jobId = await crashedJob(testHarness.services, targetFor(token, ids.channel), minutes(2));

    const edit = await final;
    expect(edit.files).toHaveLength(1);
    const [file] = edit.files;
    expect(file?.contentType).toBe('image/png');
    expect(await sharp(file?.bytes).metadata()).toMatchObject({ format: 'png', width: 1024, height: 1024 });
    expect(edit.json.attachments).toEqual([{ id: 0, filename: file?.filename }]);
    expect(embedOf(edit).image).toEqual({ url: `attachment://${file?.filename}` });
    expect(edit.json.content).toBe(`**a lighthouse at dusk** · <@${ids.ada}>`);
    expect(edit.json.allowed_mentions).toEqual({ parse: [] });

    await eventually(async () =>
      expect((await testHarness.services.jobStore.get(jobId, ada))?.status).toBe('succeeded'),
    );
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it('after the token expired: posts the image in the channel with the bot token, without a ping', async () => {
    const testHarness = await harness();
    const posted = testHarness.api.expect('POST', `/channels/${ids.channel}/messages`);
    const jobId = await crashedJob(
      testHarness.services,
      targetFor('expired-token', ids.channel),
      minutes(20),
    );

    const message = await posted;
    expect(message.headers.authorization).toBe('Bot test-bot-token');
    expect(message.files).toHaveLength(1);
    expect(await sharp(message.files[0]?.bytes).metadata()).toMatchObject({ format: 'png' });
    expect(message.json.content).toBe(`**a lighthouse at dusk** · <@${ids.ada}>`);
    expect(message.json.allowed_mentions).toEqual({ parse: [] });
    await eventually(async () =>
      expect((await testHarness.services.jobStore.get(jobId, ada))?.status).toBe('succeeded'),
    );
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it('after the token expired with no channel to post in: abandoned, nothing generated or charged', async () => {
    const model = scriptedModel(() => {
      throw new Error('a job that cannot be delivered must not run');
    });
    const testHarness = await harness({ models: [model] });
    const jobId = await crashedJob(testHarness.services, targetFor('expired-token'), minutes(20));

    const job = await eventually(async () => {
      const row = await testHarness.services.jobStore.get(jobId, ada);
      expect(row?.status).toBe('failed');
      return row;
    });
    expect(job?.result).toMatchObject({ message: abandonedReason });
    expect(model.calls).toHaveLength(0);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(0);
  });

  it('a run that fails again edits the reply with the reason instead of leaving "thinking…"', async () => {
    const down = scriptedModel(() => {
      throw new ProviderCallError('unavailable', 'scripted outage', {
        provider: 'test',
        status: 503,
        retryAfterSeconds: 30,
      });
    });
    const testHarness = await harness({ models: [down] });
    const token = 'crashed-interaction-token';
    const final = testHarness.api.expect('PATCH', webhook.original(token));
    await crashedJob(testHarness.services, targetFor(token), minutes(2));

    const edit = await final;
    expect(edit.files).toHaveLength(0);
    expect(edit.json).toMatchObject({
      content: `<@${ids.ada}> The image provider is not available right now. Try again in 30 s. You were not charged.`,
      embeds: [],
      components: [],
      attachments: [],
      allowed_mentions: { parse: [] },
    });
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(0);
  });
});
