/**
 * The "Vary this image" message shortcut end to end, over HTTP and Socket Mode: the shared file is fetched
 * from Slack's file host (stood in by nock) with the bot token, sent to the model as the init image at Vary
 * (Subtle)'s strength, charged to whoever used the shortcut, and posted in the conversation with the usual
 * buttons. A message without an image, or a file that is not one, gets a note only that person sees.
 */
import nock from 'nock';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { sizeFromInput } from '../../core/generation/image-dimensions.ts';
import { allTasksPlaceholder } from '../../test-support/image-input-stand-ins.ts';
import { storedImageFiles } from '../../test-support/test-services.ts';
import {
  bob,
  bobIdentity,
  botToken,
  channelId,
  fixture,
  HttpTransport,
  SlackStandIn,
  type SlackTransport,
  SocketTransport,
} from './__fixtures__/slack-stand-in.ts';

const transports = { http: HttpTransport.start, socket: SocketTransport.start } as const;

let current: SlackTransport | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const fileHost = 'https://files.slack.com';
const filePath = '/files-pri/T0001TEAM-F0001OFFICE/office.png';

let shortcuts = 0;
/** The shortcut used on a message, by Bob; `message` replaces parts of the recorded one. */
function varyThisImage(message: Record<string, unknown> = {}): Record<string, unknown> {
  shortcuts++;
  const payload = fixture<Record<string, unknown> & { message: Record<string, unknown> }>(
    'message-shortcut.json',
  );
  return {
    ...payload,
    action_ts: `1700000005.${String(shortcuts).padStart(6, '0')}`,
    response_url: `https://hooks.slack.com/app/T0001TEAM/${3000 + shortcuts}/token${shortcuts}`,
    message: { ...payload.message, ...message },
  };
}

async function officePng(): Promise<Buffer> {
  return sharp({ create: { width: 480, height: 320, channels: 3, background: '#3a5f7d' } })
    .png()
    .toBuffer();
}

type Block = { type: string; [key: string]: unknown };

function buttonLabels(blocks: Block[]): string[] {
  return blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements as { text: { text: string } }[])
    .map((element) => element.text.text);
}

async function expectNothingCharged(transport: SlackTransport) {
  expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
  expect(transport.services.ledger.usage(bobIdentity, 5)).toMatchObject({ used: 0, reserved: 0 });
  expect(storedImageFiles(transport.services)).toEqual([]);
}

describe.each(['http', 'socket'] as const)('"Vary this image" over %s', (mode) => {
  it('downloads the file with the bot token, varies it subtly and posts it with the buttons, charged to the presser', async () => {
    const model = allTasksPlaceholder();
    current = await transports[mode]({}, [model]);
    const transport = current;
    const office = await officePng();
    nock(fileHost, { reqheaders: { authorization: `Bearer ${botToken}` } })
      .get(filePath)
      .reply(200, office, { 'content-type': 'image/png' });
    const slack = new SlackStandIn().uploadFlow().responseUrls();

    expect(await transport.action(varyThisImage({ thread_ts: '1700000000.000100' }))).toBeUndefined();
    await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 1);

    expect(model.calls).toHaveLength(1);
    const call = model.calls[0];
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.35 });
    expect(call?.size).toEqual(sizeFromInput({ width: 480, height: 320 }));
    // The message's words steer it, without the mention.
    expect(call?.prompt).toContain('our new office at dusk');
    expect(call?.prompt).not.toContain('U0002BOB');
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(office)).toBe(true);

    const shared = slack.callsTo('files.completeUploadExternal')[0];
    expect(shared?.args).toMatchObject({ channel_id: channelId, thread_ts: '1700000000.000100' });
    const blocks = SlackStandIn.blocks(shared);
    expect(JSON.stringify(blocks)).toContain(`Subtle variation by <@${bob}>`);
    expect(buttonLabels(blocks)).toEqual(
      expect.arrayContaining(['🪄 Vary (Subtle)', '🔀 Vary (Strong)', '🔍 Upscale 2×', '🖌️ Remix']),
    );
    expect(slack.responses[0]?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(slack.responses[0]?.body.text)).toMatch(/subtle variation of that image/);
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(1);
    const made = transport.services.records.listForUser(bobIdentity, { limit: 1, cursor: undefined })
      .records[0];
    expect(made).toMatchObject({ kind: 'image_to_image', width: 480, height: 320 });
  });

  it('answers a message with no image file with a note only the presser sees', async () => {
    const model = allTasksPlaceholder();
    current = await transports[mode]({}, [model]);
    const slack = new SlackStandIn().responseUrls(2);
    const pdf = {
      ...fixture<{ message: { files: Record<string, unknown>[] } }>('message-shortcut.json').message.files[0],
      name: 'minutes.pdf',
      mimetype: 'application/pdf',
      url_private: 'https://files.slack.com/files-pri/T0001TEAM-F0002PDF/minutes.pdf',
    };

    await current.action(varyThisImage({ files: [pdf] }));
    await slack.until(() => slack.responses.length === 1);
    await current.action(varyThisImage({ files: undefined, text: 'just words' }));
    await slack.until(() => slack.responses.length === 2);

    for (const response of slack.responses) {
      expect(response.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(String(response.body.text)).toMatch(/no image in that message I can read/);
    }
    expect(model.calls).toHaveLength(0);
    await expectNothingCharged(current);
  });

  it('refuses a file Slack serves that is not an image (no access: a login page), at no charge', async () => {
    const model = allTasksPlaceholder();
    current = await transports[mode]({}, [model]);
    nock(fileHost).get(filePath).reply(200, '<!DOCTYPE html><html>Sign in to Slack</html>', {
      'content-type': 'text/html',
    });
    const slack = new SlackStandIn().responseUrls(2);

    await current.action(varyThisImage());
    await slack.until(() => slack.responses.length === 2);

    expect(String(slack.responses[1]?.body.text)).toMatch(
      /^⚠️ That image could not be used: .*not a PNG, JPEG or WebP\. You were not charged\.$/,
    );
    expect(String(slack.responses[1]?.body.text)).not.toContain(botToken);
    expect(model.calls).toHaveLength(0);
    await expectNothingCharged(current);
  });
});
