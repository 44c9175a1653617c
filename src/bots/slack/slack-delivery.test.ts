/** Posting an image when Slack refuses the message's blocks: what is retried, and what the log says. */
import { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { tinyPng } from '../../test-support/test-services.ts';
import { botToken, channelId, fixture, SlackStandIn } from './__fixtures__/slack-stand-in.ts';
import { SlackDelivery, SlackDeliveryError } from './slack-delivery.ts';

function deliver() {
  const captured = capturingLogger('info');
  const delivery = new SlackDelivery({ fetch, logger: captured.logger });
  const client = new webApi.WebClient(botToken, { retryConfig: { retries: 0 } });
  const posted = delivery.postImage(client, {
    channelId,
    userId: 'U0001ALICE',
    bytes: tinyPng,
    filename: 'fox.png',
    title: 'a fox',
    altText: 'a fox',
    message: { text: 'a fox', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*a fox*' } }] },
    publicImageUrl: 'https://imagine.example.com/images/alice/fox.png',
  });
  return { posted, captured };
}

const logged = (output: string) =>
  output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('SlackDelivery with public images', () => {
  it('uploads the bytes when Slack cannot fetch the image URL, and says that was why', async () => {
    const slack = new SlackStandIn()
      .method('chat.postMessage', fixture('error-invalid-blocks-image-url.json'))
      .uploadFlow();
    const { posted, captured } = deliver();
    await expect(posted).resolves.toEqual({ channelId, inDirectMessage: false });
    expect(slack.uploads).toHaveLength(1);
    expect(logged(captured.output())).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'Slack could not fetch the public image URL; uploading the image instead',
      }),
    ]);
  });

  it('reports a block Slack refused for another reason as that, not as an image-URL failure', async () => {
    const slack = new SlackStandIn().method(
      'chat.postMessage',
      fixture('error-invalid-blocks-too-long.json'),
    );
    const { posted, captured } = deliver();
    const error = await posted.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect((error as SlackDeliveryError).slackError).toBe('invalid_blocks');
    expect(slack.uploads).toHaveLength(0);
    const lines = logged(captured.output());
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        msg: 'Slack refused the message blocks (invalid_blocks)',
        problems: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
      }),
    ]);
    expect(captured.output()).not.toMatch(/image URL/);
  });
});
