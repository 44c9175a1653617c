/**
 * After a crash: a chat job the dead process left in the jobs table is handed to the Slack app, run again,
 * posted in its channel the normal way, and its "working on it" answered while the response_url works.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { storedChatJob } from '../../core/chat/chat-images.ts';
import { ProviderCallError } from '../../core/providers/provider-error.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import { scriptedModel } from '../../test-support/test-services.ts';
import {
  alice,
  aliceIdentity,
  channelId,
  HttpTransport,
  SlackStandIn,
  sizedPngModel,
  teamId,
} from './__fixtures__/slack-stand-in.ts';
import { abandonedText, type SlackTarget } from './recovered-jobs.ts';

let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  transport = undefined;
});

const responseUrl = `https://hooks.slack.com/commands/${teamId}/9000000000001/recoveredToken`;

function commandTarget(overrides: Partial<SlackTarget> = {}): SlackTarget {
  return {
    origin: 'command',
    teamId,
    userId: alice,
    channelId,
    responseUrl,
    lead: { kind: 'imagine', userId: alice },
    ...overrides,
  };
}

/** A job row as a crashed process leaves it: running, owned by a dead worker, not heard from since `age`. */
function crashedJob(
  running: HttpTransport,
  target: unknown,
  options: { ageMs: number; model?: string },
): string {
  return leaveCrashedJob(running.services, {
    userId: aliceIdentity,
    source: 'slack',
    delivery: 'chat',
    ageMs: options.ageMs,
    request: storedChatJob({
      kind: 'image',
      request: {
        prompt: 'a lighthouse after the crash',
        size: '1024x1024',
        enhance_prompt: true,
        ...(options.model ? { model: options.model } : {}),
      },
      identity: aliceIdentity,
      place: { scopeKey: undefined, scopeLimit: undefined },
      source: 'slack',
      target,
    }),
  });
}

async function jobStatus(running: HttpTransport, id: string): Promise<string | undefined> {
  // The runner writes through the group-commit batcher: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return running.services.jobStore.get(id, aliceIdentity)?.status;
}

describe('Slack app: generations recovered after a crash', () => {
  it('runs the job again, uploads the PNG to its channel, replaces "working on it", and charges once', async () => {
    transport = await HttpTransport.start();
    const slack = new SlackStandIn().uploadFlow().responseUrls();
    const id = crashedJob(transport, commandTarget(), { ageMs: 2 * 60_000 });

    expect(transport.services.jobs.recover()).toBe(1);
    await slack.until(() => slack.responses.length === 1);

    const metadata = await sharp(slack.uploads[0] as Buffer).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 1024, height: 1024 });
    const [share] = slack.callsTo('files.completeUploadExternal');
    expect(share?.args.channel_id).toBe(channelId);
    const blocks = JSON.stringify(SlackStandIn.blocks(share));
    expect(blocks).toContain('*a lighthouse after the crash*');
    expect(blocks).toContain(`Made for <@${alice}>`);
    expect(blocks).toContain('imagine_reroll');

    expect(slack.responses[0]?.path).toBe(new URL(responseUrl).pathname);
    expect(slack.responses[0]?.body).toEqual({
      response_type: 'ephemeral',
      replace_original: true,
      text: '✅ Posted. You have 2 of 3 images left this month.',
    });
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);
    expect(await jobStatus(transport, id)).toBe('succeeded');
  });

  it('when the job fails again and the response_url has expired, the person hears it ephemerally in the channel', async () => {
    const failing = scriptedModel(() => {
      throw new ProviderCallError('unavailable', 'scripted outage', { provider: 'test' });
    }, 'flux-dev');
    transport = await HttpTransport.start({}, [sizedPngModel(), failing]);
    const slack = new SlackStandIn().method('chat.postEphemeral');
    crashedJob(transport, commandTarget(), { ageMs: 45 * 60_000, model: 'flux-dev' });

    transport.services.jobs.recover();
    await slack.until(() => slack.callsTo('chat.postEphemeral').length === 1);

    const [note] = slack.callsTo('chat.postEphemeral');
    expect(note?.args).toMatchObject({ channel: channelId, user: alice });
    expect(note?.args.text).toMatch(/^⚠️ .*provider is not available.*You were not charged/);
    expect(slack.uploads).toHaveLength(0);
    expect(slack.responses).toHaveLength(0);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(0);
  });

  it('with no channel to post to, the job is abandoned and "working on it" says so', async () => {
    transport = await HttpTransport.start();
    const slack = new SlackStandIn().responseUrls();
    const id = crashedJob(transport, commandTarget({ channelId: undefined }), { ageMs: 60_000 });

    transport.services.jobs.recover();
    await slack.until(() => slack.responses.length === 1);

    expect(slack.responses[0]?.body).toEqual({
      response_type: 'ephemeral',
      replace_original: true,
      text: `⚠️ ${abandonedText}`,
    });
    expect(await jobStatus(transport, id)).toBe('failed');
    expect(slack.uploads).toHaveLength(0);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(0);
  });
});
